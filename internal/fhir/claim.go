package fhir

import (
	"fmt"
	"slices"
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
		if dataAbsent(it.ProductOrService) {
			continue // an institutional line billed by revenue code alone (CARIN, Blue Button)
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
		if enc.PlaceOfService == "" && r.Facility != nil && r.Facility.Reference != "" {
			enc.PlaceOfService = m.x.pos[m.x.key(&reference{Reference: r.Facility.Reference})] // the facility Location's type
		}
		facts, admission, discharge := m.claimFacts(enc)
		source.ClaimEncounter(enc, clinical.ClaimSetting(facts), admission, discharge)
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

// Systems of the codes that tell a claim's setting (docs/fhir-mapping.md).
const (
	claimTypeSystem    = "http://terminology.hl7.org/CodeSystem/claim-type"
	claimTypeSystemOld = "http://hl7.org/fhir/ex-claimtype" // Blue Button 2.0 v1
	bbEOBTypeSystem    = "https://bluebutton.cms.gov/resources/codesystem/eob-type"
	c4bbInstSubtype    = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBInstitutionalClaimSubType"
	nubcTypeOfBill     = "https://www.nubc.org/CodeSystem/TypeOfBill"
	nubcRevenue        = "https://www.nubc.org/CodeSystem/RevenueCodes"
	bbRevenue          = "https://bluebutton.cms.gov/resources/variables/rev_cntr"
	bbFacilityType     = "https://bluebutton.cms.gov/resources/variables/clm_fac_type_cd"
	bbServiceClass     = "https://bluebutton.cms.gov/resources/variables/clm_srvc_clsfctn_type_cd"
	bbFrequency        = "https://bluebutton.cms.gov/resources/variables/clm_freq_cd"
	dataAbsentSystem   = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
)

// bbEOBTypes maps the CMS Blue Button claim types to a claim type and, for
// institutional claims, whether the claim is for an inpatient or an
// outpatient stay. Blue Button's own type wins over its claim-type coding,
// which its version 1 gave outpatient claims as professional.
var bbEOBTypes = map[string]struct {
	typ clinical.ClaimType
	sub clinical.InstitutionalSubtype
}{
	"INPATIENT": {clinical.ClaimInstitutional, clinical.SubtypeInpatient}, "SNF": {clinical.ClaimInstitutional, clinical.SubtypeInpatient},
	"OUTPATIENT": {clinical.ClaimInstitutional, clinical.SubtypeOutpatient}, "HHA": {clinical.ClaimInstitutional, clinical.SubtypeOutpatient},
	"HOSPICE": {clinical.ClaimInstitutional, ""}, "CARRIER": {clinical.ClaimProfessional, ""}, "DME": {clinical.ClaimProfessional, ""},
	"PDE": {clinical.ClaimPharmacy, ""},
}

// claimFacts reads what the claim says of its setting, for
// clinical.ClaimSetting, and its admission period: type (claim-type; Blue
// Button eob-type), subType (CARIN institutional inpatient / outpatient),
// supportingInfo typeofbill, discharge-status and admissionperiod,
// item.revenue, the place of service on enc (item locationCodeableConcept,
// else the facility Location's type), the billed codes,
// and Blue Button's facility type and service classification extensions.
func (m *mapper) claimFacts(enc *pb.Encounter) (f clinical.ClaimFacts, admission, discharge string) {
	r := m.r
	var typ *concept
	m.decode(r.ResourceType+".type", r.Type, func(d *jd, v []byte) { typ = d.concept(v, "type") })
	bb := false
	for _, cd := range typ.codings() {
		switch cd.System {
		case claimTypeSystem, claimTypeSystemOld:
			if t, err := clinical.ParseClaimType(cd.Code); err == nil && !bb {
				f.Type = t
			}
		case bbEOBTypeSystem:
			if t, ok := bbEOBTypes[strings.ToUpper(cd.Code)]; ok {
				f.Type, f.Subtype, bb = t.typ, t.sub, true
			}
		}
	}
	for _, cd := range r.SubType.codings() {
		if cd.System == c4bbInstSubtype && f.Subtype == "" {
			switch sub := clinical.InstitutionalSubtype(strings.ToLower(cd.Code)); sub {
			case clinical.SubtypeInpatient, clinical.SubtypeOutpatient:
				f.Subtype = sub
			}
		}
	}
	frequency := ""
	for _, s := range r.SupportingInfo {
		switch {
		case hasCategory(s, "typeofbill"):
			for _, cd := range s.Code.codings() {
				if cd.System == bbFrequency {
					frequency = cd.Code // Blue Button gives only the third digit here
				} else if tob, err := clinical.NormalizeBillType(cd.Code); err == nil && f.BillType == "" {
					f.BillType = tob
				}
			}
		case hasCategory(s, "discharge-status"):
			for _, cd := range s.Code.codings() {
				if ds, err := clinical.NormalizeDischargeStatus(cd.Code); err == nil && f.DischargeStatus == "" {
					f.DischargeStatus = ds
				}
			}
		case hasCategory(s, "admissionperiod"):
			if s.TimingPeriod != nil {
				admission, discharge = s.TimingPeriod.Start, datePart(s.TimingPeriod.End)
			}
		}
	}
	if f.BillType == "" {
		f.BillType = bbBillType(r, frequency)
	}
	for _, it := range r.Item {
		for _, cd := range it.Revenue.codings() {
			if cd.System != nubcRevenue && cd.System != bbRevenue && cd.System != "" {
				continue
			}
			// Blue Button also writes a deductible code ("A") under the NUBC system: only a revenue code's shape counts.
			if rc, err := clinical.NormalizeRevenueCode(cd.Code); err == nil {
				if !slices.Contains(f.Revenue, rc) {
					f.Revenue = append(f.Revenue, rc)
				}
				break
			}
		}
	}
	for _, l := range enc.Lines {
		f.Codes = append(f.Codes, l.GetCode().GetCode())
	}
	f.POS = enc.PlaceOfService
	return f, admission, discharge
}

// dataAbsent reports whether a code says it is absent: the HL7
// data-absent-reason system, which CARIN and Blue Button institutional
// lines carry as productOrService when only a revenue code was billed.
func dataAbsent(c *concept) bool {
	for _, cd := range c.codings() {
		if cd.System != dataAbsentSystem {
			return false
		}
	}
	return c != nil && len(c.Coding) > 0
}

// hasCategory reports whether a supportingInfo entry has the CARIN Blue
// Button category code (typeofbill, admissionperiod, discharge-status).
func hasCategory(s supportingInfo, code string) bool {
	for _, cd := range s.Category.Coding {
		if strings.EqualFold(cd.Code, code) {
			return true
		}
	}
	return false
}

// bbBillType composes the type of bill that CMS Blue Button 2.0 splits:
// facility type (an extension of facility), service classification (an
// extension of the resource) and frequency (the typeofbill supportingInfo).
func bbBillType(r *resource, frequency string) string {
	var facility, class string
	if r.Facility != nil {
		for _, e := range r.Facility.Extension {
			if e.URL == bbFacilityType && e.ValueCoding != nil {
				facility = e.ValueCoding.Code
			}
		}
	}
	for _, e := range r.Extension {
		if e.URL == bbServiceClass && e.ValueCoding != nil {
			class = e.ValueCoding.Code
		}
	}
	if len(facility) != 1 || len(class) != 1 || facility[0] < '1' || facility[0] > '9' || class[0] < '0' || class[0] > '9' {
		return ""
	}
	if tob, err := clinical.NormalizeBillType(facility + class + frequency); err == nil {
		return tob
	}
	return facility + class
}
