package fhir

import (
	"fmt"
	"sort"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/source"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// claim maps a Claim or ExplanationOfBenefit: one encounter keyed
// "Claim/<id>" (or "ExplanationOfBenefit/<id>") with the billed CPT/HCPCS
// lines and the diagnoses; a quality-code record per quality-data-code item
// and a dispense per NDC/RxNorm item, keyed "<encounter key>/<item sequence>".
func (m *mapper) claim() {
	r := m.r
	typ := r.ResourceType
	if m.skipFor("cancelled", "entered-in-error", "draft") {
		return
	}
	if r.Use == "preauthorization" || r.Use == "predetermination" {
		m.out.skip = typ + " (" + r.Use + ")"
		return
	}
	key := typ + "/" + m.out.id
	patient := m.ref(typ+".patient", r.Patient, "Patient", true)
	tin := m.x.claimTIN(r.Provider, r.CareTeam)
	if tin == "" {
		if _, c := m.resolve(r.Provider); c != nil {
			tin = tinOf(c.Identifier)
		}
	}
	if tin == "" {
		tin = m.tin(typ+".provider", nil, nil, r.Patient)
	}
	npi := m.claimNPI()
	start := first(r.BillablePeriod.start(), r.Created)
	enc := &pb.Encounter{Tin: tin, SourceId: key, PatientId: patient, RenderingNpi: npi, Start: start, End: r.BillablePeriod.end()}
	// A claim for an encounter in the export (item.encounter, as EHR exports
	// such as Synthea write) adds its billed lines as an encounter of its
	// own only if it has some; its quality codes point at that encounter.
	qdcEncounter := key
	linked := m.linkedEncounter(tin)
	if linked != "" {
		qdcEncounter = linked
	}
	var extra []*pb.Record
	for i, it := range r.Item {
		path := fmt.Sprintf("%s.item[%d].productOrService", typ, i)
		seq := it.Sequence
		if seq == 0 {
			seq = i + 1
		}
		id := fmt.Sprintf("%s/%d", key, seq)
		date := first(it.ServicedDate, it.ServicedPeriod.start(), start)
		itemNPI := first(m.careTeamNPI(it.CareTeamSequence), npi)
		if enc.PlaceOfService == "" && it.LocationCodeableConcept != nil {
			enc.PlaceOfService = posOf([]concept{*it.LocationCodeableConcept})
		}
		cd := m.listCode(path, it.ProductOrService, clinical.CPT, clinical.HCPCS, clinical.NDC, clinical.RxNorm)
		if cd == nil {
			continue
		}
		switch sys := clinical.System(cd.System); {
		case sys == clinical.NDC || sys == clinical.RxNorm:
			ev := &pb.MedicationEvent{Tin: tin, SourceId: id, PatientId: patient, Kind: pb.MedicationKind_MEDICATION_KIND_DISPENSE,
				Code: cd, Date: date, Npi: itemNPI, DaysSupply: m.claimDaysSupply()}
			if it.Quantity != nil && it.Quantity.Value != nil {
				ev.Quantity = *it.Quantity.Value
			}
			extra = append(extra, &pb.Record{Kind: &pb.Record_Medication{Medication: ev}})
		case source.IsQualityDataCode(sys, cd.Code):
			extra = append(extra, &pb.Record{Kind: &pb.Record_QualityCode{QualityCode: &pb.QualityCode{Tin: tin, SourceId: id, PatientId: patient,
				Code: cd, Modifiers: modifiers(it.Modifier), Date: date, Npi: itemNPI, EncounterId: qdcEncounter}}})
		default:
			enc.Lines = append(enc.Lines, &pb.ProcedureLine{Code: cd, Modifiers: modifiers(it.Modifier)})
		}
	}
	dx := append([]diagnosis(nil), r.Diagnosis...)
	sort.SliceStable(dx, func(i, j int) bool { return dx[i].Sequence < dx[j].Sequence })
	for i, d := range dx {
		path := fmt.Sprintf("%s.diagnosis[%d]", typ, i)
		switch k, c := m.resolve(d.DiagnosisReference); {
		case d.DiagnosisCodeableConcept != nil:
			if cd := m.listCode(path+".diagnosisCodeableConcept", d.DiagnosisCodeableConcept, diagnosisSystems...); cd != nil {
				enc.Diagnoses = append(enc.Diagnoses, cd)
			}
		case c != nil && c.Code != nil:
			if cd := m.listCode(path+".diagnosisReference", c.Code, diagnosisSystems...); cd != nil {
				enc.Diagnoses = append(enc.Diagnoses, cd)
			}
		case m.x.conditions[k] != nil:
			if cd := m.listCode(path+".diagnosisReference", &concept{Coding: m.x.conditions[k]}, diagnosisSystems...); cd != nil {
				enc.Diagnoses = append(enc.Diagnoses, cd)
			}
		case d.DiagnosisReference != nil:
			m.flag(path+".diagnosisReference", "reference.unresolved", fmt.Sprintf("diagnosis %q does not resolve to a coded Condition in the export; left out", d.DiagnosisReference.Reference))
		}
	}
	// A pharmacy claim is not an encounter: only items that need one get it.
	hasQDC := false
	for _, rec := range extra {
		hasQDC = hasQDC || rec.GetQualityCode() != nil
	}
	if len(enc.Lines) > 0 || (linked == "" && (len(enc.Diagnoses) > 0 || hasQDC)) {
		for _, rec := range extra {
			if q := rec.GetQualityCode(); q != nil {
				q.EncounterId = key
			}
		}
		m.add(&pb.Record{Kind: &pb.Record_Encounter{Encounter: enc}})
	}
	m.out.records = append(m.out.records, extra...)
	if len(m.out.records) == 0 && !m.out.rejected && linked != "" {
		m.out.skip = typ + " (nothing beyond its Encounter)"
		return
	}
	if len(m.out.records) == 0 && !m.out.rejected {
		m.reject(typ+".item", "claim.empty", "the claim has no CPT, HCPCS, NDC or RxNorm item and no diagnosis, so nothing could be imported from it")
	}
}

// linkedEncounter returns the id of the Encounter in the export that the
// claim's items are for, or "": only one of the claim's practice, since a
// record can point only at an encounter of its own TIN.
func (m *mapper) linkedEncounter(tin string) string {
	for _, it := range m.r.Item {
		for i := range it.Encounter {
			k := m.x.key(&it.Encounter[i])
			id, ok := strings.CutPrefix(k, "Encounter/")
			if e := m.x.encounters[k]; ok && e != nil && m.encounterTIN(e) == tin {
				return id
			}
		}
	}
	return ""
}

// encounterTIN is the TIN an Encounter's record gets, as encounter() and
// tin() choose it, without reporting anything.
func (m *mapper) encounterTIN(e *encounterInfo) string {
	if e.tin != "" {
		return e.tin
	}
	if pi := m.x.patients[m.x.key(e.patient)]; pi != nil && len(pi.tins) == 1 {
		return pi.tins[0]
	}
	return m.opts.DefaultTIN
}

// careTeamRoles rank Claim.careTeam roles when choosing the rendering clinician.
var careTeamRoles = map[string]int{"rendering": 0, "performing": 0, "primary": 1, "attending": 2, "supervisor": 3}

// claimNPI is the rendering clinician: the provider when it is a
// practitioner, else the best-ranked care-team member with an NPI.
func (m *mapper) claimNPI() string {
	if npi := m.npi(m.r.Provider); npi != "" {
		return npi
	}
	refs, roles := make([]*reference, len(m.r.CareTeam)), make([][]concept, len(m.r.CareTeam))
	for i, c := range m.r.CareTeam {
		refs[i] = c.Provider
		if c.Role != nil {
			roles[i] = []concept{*c.Role}
		}
	}
	return m.bestNPI(careTeamRoles, refs, roles)
}

func (m *mapper) careTeamNPI(seqs []int) string {
	for _, s := range seqs {
		for _, c := range m.r.CareTeam {
			if c.Sequence == s {
				if npi := m.npi(c.Provider); npi != "" {
					return npi
				}
			}
		}
	}
	return ""
}

// claimDaysSupply reads the CARIN Blue Button "dayssupply" supporting info.
func (m *mapper) claimDaysSupply() int32 {
	for _, s := range m.r.SupportingInfo {
		for _, cd := range s.Category.Coding {
			if strings.EqualFold(cd.Code, "dayssupply") {
				return days(s.ValueQuantity)
			}
		}
	}
	return 0
}

func modifiers(cs []concept) []string {
	var out []string
	for _, c := range cs {
		for _, cd := range c.Coding {
			if cd.Code != "" {
				out = append(out, cd.Code)
				break
			}
		}
	}
	return out
}
