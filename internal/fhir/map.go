package fhir

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/source"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// mapped is what one resource became.
type mapped struct {
	typ, id  string
	records  []*pb.Record
	problems []source.Problem
	rejected bool
	skip     string // the Skipped key when the resource is not used
}

// mapper maps one resource; it only reads the index, so workers share it.
type mapper struct {
	x         *index
	opts      Options
	r         *resource
	out       *mapped
	contained map[string]*resource
}

func mapItem(x *index, opts Options, it *item) *mapped {
	out := &mapped{typ: it.typ}
	switch {
	case it.bad != nil:
		(&mapper{out: out}).reject(it.bad.Path, it.bad.Rule, it.bad.Message)
		return out
	case referenceOnly[it.typ]:
		// read in the first pass to resolve references; no records of their own
		out.id = topLevelID(it)
		return out
	case it.typ != "" && !mappedTypes[it.typ]:
		// not used by Liaison; not decoded either, so its shape does not matter
		out.id, out.skip = topLevelID(it), it.typ
		return out
	}
	r := getResource()
	defer putResource(r) // records copy what they keep
	if err := decodeResource(it.data, r); err != nil {
		m := &mapper{out: out}
		var se *shapeError
		if errors.As(err, &se) {
			m.reject(it.typ+"."+se.path, "json.shape", se.Error())
		} else {
			m.reject("", "json.syntax", "not a JSON resource: "+err.Error())
		}
		return out
	}
	m := &mapper{x: x, opts: opts, r: r, out: out}
	out.typ, out.id = r.ResourceType, resourceID(r.ID, it.fullURL)
	if r.ResourceType == "" {
		m.reject("resourceType", "resource.type_missing", "not a FHIR resource: resourceType is missing")
		return out
	}
	switch r.ResourceType {
	case "Organization":
		m.organization()
	case "Practitioner":
		m.practitioner()
	case "Patient":
		m.keyed(m.patient)
	case "Encounter":
		m.keyed(m.encounter)
	case "Condition":
		m.keyed(m.condition)
	case "Procedure":
		m.keyed(m.procedure)
	case "MedicationRequest", "MedicationDispense", "MedicationAdministration":
		m.keyed(m.medication)
	case "Coverage":
		m.keyed(m.coverage)
	case "EpisodeOfCare":
		m.keyed(m.episodeOfCare)
	case "Claim", "ExplanationOfBenefit":
		m.keyed(m.claim)
	case "DiagnosticReport", "Observation":
		m.keyed(m.study)
	case "MedicationStatement":
		m.keyed(m.medication)
	case "OperationOutcome":
		m.operationOutcome()
	default:
		out.skip = r.ResourceType
	}
	if out.rejected {
		out.records = nil
	}
	return out
}

// referenceOnly are the types read only to resolve references; mappedTypes
// the ones that become records.
var (
	referenceOnly = map[string]bool{"PractitionerRole": true, "Location": true, "Medication": true}
	mappedTypes   = map[string]bool{"Organization": true, "Practitioner": true, "Patient": true, "Encounter": true,
		"Condition": true, "Procedure": true, "MedicationRequest": true, "MedicationDispense": true,
		"MedicationAdministration": true, "MedicationStatement": true, "Coverage": true, "EpisodeOfCare": true, "Claim": true,
		"ExplanationOfBenefit": true, "DiagnosticReport": true, "Observation": true, "OperationOutcome": true}
)

func topLevelID(it *item) string {
	id := ""
	eachField(it.data, func(key, val []byte) bool {
		if string(key) == "id" {
			id, _ = jsonString(val)
			return false
		}
		return true
	})
	return resourceID(id, it.fullURL)
}

// decode reads an element whose shape depends on the resource type with
// read; a shape R4 does not have is flagged and the element left out.
func (m *mapper) decode(path string, raw json.RawMessage, read func(d *jd, v []byte)) bool {
	if len(raw) == 0 {
		return false
	}
	d := &jd{}
	if read(d, raw); d.err != nil {
		m.flag(path, "json.shape", d.err.Error()+"; left out")
		return false
	}
	return true
}

// keyed runs fn for a resource whose records need a stable source id.
func (m *mapper) keyed(fn func()) {
	if m.out.id == "" {
		m.reject(m.r.ResourceType+".id", "resource.id_missing", "the resource has no id (nor a fullUrl to take one from), so its records would have no stable source id")
		return
	}
	fn()
}

func (m *mapper) reject(path, rule, msg string) {
	m.out.rejected = true
	m.out.problems = append(m.out.problems, source.Problem{Path: path, Rule: rule, Message: msg})
}

func (m *mapper) flag(path, rule, msg string) {
	m.out.problems = append(m.out.problems, source.Problem{Path: path, Rule: rule, Message: msg, Flag: true})
}

func (m *mapper) add(rec *pb.Record) { m.out.records = append(m.out.records, rec) }

// skipFor skips resources whose status says the event did not happen.
func (m *mapper) skipFor(statuses ...string) bool {
	for _, s := range statuses {
		if m.r.Status == s {
			m.out.skip = m.r.ResourceType + " (" + s + ")"
			return true
		}
	}
	return false
}

// resolve returns the key a reference points at, or the contained resource.
func (m *mapper) resolve(r *reference) (string, *resource) {
	if r == nil {
		return "", nil
	}
	if id, ok := strings.CutPrefix(r.Reference, "#"); ok {
		return "", m.containedByID(id)
	}
	return m.x.key(r), nil
}

func (m *mapper) containedByID(id string) *resource {
	if m.contained == nil {
		m.contained = map[string]*resource{}
		for _, raw := range m.r.Contained {
			var c resource
			if decodeResource(raw, &c) == nil && c.ID != "" {
				m.contained[c.ID] = &c
			}
		}
	}
	return m.contained[id]
}

// ref resolves a reference that must point at a resource of type want and
// returns that resource's id. A missing reference returns "" (Convert
// reports required ones); an unresolvable one is a rejection when required,
// otherwise a flag and "".
func (m *mapper) ref(path string, r *reference, want string, required bool) string {
	if r == nil || (r.Reference == "" && r.Identifier == nil) {
		return ""
	}
	k := m.x.key(r)
	typ, id, _ := strings.Cut(k, "/")
	var problem, rule string
	switch {
	case k == "":
		problem, rule = fmt.Sprintf("reference %q does not resolve to a %s in the export", refText(r), want), "reference.unresolved"
	case typ != want:
		problem, rule = fmt.Sprintf("reference %q points at a %s, not a %s", r.Reference, typ, want), "reference.type"
	default:
		return id
	}
	if required {
		m.reject(path, rule, problem)
	} else {
		m.flag(path, rule, problem+"; left out")
	}
	return ""
}

func refText(r *reference) string {
	if r.Reference != "" {
		return r.Reference
	}
	if r.Identifier != nil {
		return r.Identifier.System + "|" + r.Identifier.Value
	}
	return ""
}

// npi resolves a performer-like reference (Practitioner, PractitionerRole,
// logical NPI identifier, contained Practitioner) to an NPI.
func (m *mapper) npi(r *reference) string {
	if _, c := m.resolve(r); c != nil {
		return npiOf(c.Identifier)
	}
	return m.x.npiOf(r)
}

// tin resolves an organization-like reference to a TIN.
func (m *mapper) tinRef(r *reference) string {
	if _, c := m.resolve(r); c != nil {
		return tinOf(c.Identifier)
	}
	return m.x.tinOf(r)
}

// tin picks the practice of a clinical record: an organization the resource
// names, else its encounter's, else its patient's managing organization,
// else the only practice the patient is seen at, else the default TIN.
func (m *mapper) tin(path string, orgs []*reference, encounter, patient *reference) string {
	for _, o := range orgs {
		if t := m.tinRef(o); t != "" {
			return t
		}
	}
	if e := m.x.encounters[m.x.key(encounter)]; e != nil && e.tin != "" {
		return e.tin
	}
	if t := m.x.patientOrgTIN(patient); t != "" {
		return t
	}
	if pi := m.x.patients[m.x.key(patient)]; pi != nil && len(pi.tins) > 0 {
		if len(pi.tins) == 1 {
			return pi.tins[0]
		}
		if m.opts.DefaultTIN != "" && containsString(pi.tins, m.opts.DefaultTIN) {
			return m.opts.DefaultTIN
		}
		m.reject(path, "tin.ambiguous", fmt.Sprintf("the patient is seen at several practices (TINs %s) and the resource names none", strings.Join(pi.tins, ", ")))
		return ""
	}
	if m.opts.DefaultTIN != "" {
		return m.opts.DefaultTIN
	}
	m.reject(path, "tin.unresolved", "no practice TIN: no organization with a TIN identifier is referenced (directly, through the encounter or the patient); pass --tin for a single-practice export")
	return ""
}

// system maps a coding's system, reading HCPCS Level I (CPT-shaped) codes as CPT.
func system(cd coding) (clinical.System, bool) {
	s, ok := systemOf(cd.System)
	if ok && s == clinical.HCPCS && source.IsCPTShape(cd.Code) {
		s = clinical.CPT
	}
	return s, ok
}

// code picks the coding for a single-code field: the first in the most
// preferred of want; failing that the first coding as sent, so Convert
// rejects it with its own rule. A code in an unknown system is flagged and
// kept.
func (m *mapper) code(path string, c *concept, want ...clinical.System) *pb.Coding {
	if c == nil || len(c.Coding) == 0 {
		return nil
	}
	if cd := pick(c, want); cd != nil {
		return cd
	}
	cd := c.Coding[0]
	s, ok := system(cd)
	if !ok {
		m.flag(path+".coding[0].system", "code.system_unknown", fmt.Sprintf("code %q is in system %q, which Liaison does not know; sent as is", cd.Code, cd.System))
		return &pb.Coding{System: cd.System, Code: cd.Code}
	}
	return &pb.Coding{System: string(s), Code: cd.Code}
}

// listCode picks the coding for one entry of a list (diagnoses, lines).
// Codes in unknown systems are flagged and left out, so one local code does
// not cost the whole encounter.
func (m *mapper) listCode(path string, c *concept, want ...clinical.System) *pb.Coding {
	if c == nil {
		return nil
	}
	if cd := pick(c, want); cd != nil {
		return cd
	}
	for i, cd := range c.Coding {
		if _, ok := system(cd); !ok {
			m.flag(fmt.Sprintf("%s.coding[%d].system", path, i), "code.system_unknown",
				fmt.Sprintf("code %q is in system %q, which Liaison does not know; left out", cd.Code, cd.System))
		}
	}
	return nil
}

func pick(c *concept, want []clinical.System) *pb.Coding {
	for _, w := range want {
		for _, cd := range c.Coding {
			if s, ok := system(cd); ok && s == w && cd.Code != "" {
				return &pb.Coding{System: string(s), Code: cd.Code}
			}
		}
	}
	return nil
}

var diagnosisSystems = []clinical.System{clinical.ICD10CM, clinical.ICD9CM, clinical.SNOMEDCT}

// datePart reduces a FHIR dateTime to its date for the API's date-only
// fields (birth, death, discharge, coverage), as written in the source.
func datePart(s string) string {
	if len(s) > 10 && s[10] == 'T' {
		return s[:10]
	}
	return s
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func (c *concept) codings() []coding {
	if c == nil {
		return nil
	}
	return c.Coding
}

func (p *period) start() string {
	if p == nil {
		return ""
	}
	return p.Start
}

func (p *period) end() string {
	if p == nil {
		return ""
	}
	return p.End
}

// organization sends a practice for an Organization with a TIN and a time
// zone (its timezone extension, else --time-zone); without a zone it only
// gives TINs, so a practice's stored zone is not reset to UTC.
func (m *mapper) organization() {
	tin := tinOf(m.r.Identifier)
	tz := m.opts.TimeZone
	if ext := m.extension(timeZoneURL); ext != nil && ext.ValueCode != "" {
		tz = ext.ValueCode
	}
	if tin == "" || tz == "" {
		return // used for references only
	}
	name, _ := jsonString(m.r.Name)
	m.add(&pb.Record{Kind: &pb.Record_Practice{Practice: &pb.Practice{Tin: tin, Name: name, TimeZone: tz}}})
}

// readPerformers reads a list of performers (Procedure, MedicationDispense,
// MedicationAdministration).
func readPerformers(dst *[]performer) func(d *jd, v []byte) {
	return func(d *jd, v []byte) {
		objects(d, v, "performer", dst, func(p *performer, k string, v []byte) {
			switch k {
			case "actor":
				p.Actor = d.reference(v, "performer.actor")
			case "onBehalfOf":
				p.OnBehalfOf = d.reference(v, "performer.onBehalfOf")
			}
		})
	}
}

// extension returns the resource's top-level extension with url, or nil.
func (m *mapper) extension(url string) *extension {
	for i := range m.r.Extension {
		if m.r.Extension[i].URL == url {
			return &m.r.Extension[i]
		}
	}
	return nil
}

func (m *mapper) practitioner() {
	npi := npiOf(m.r.Identifier)
	if npi == "" {
		return
	}
	c := &pb.Clinician{Npi: npi, Name: personName(m.r.Name)}
	for _, q := range m.r.Qualification {
		for _, cd := range q.Code.codings() {
			if cd.System == nuccSystem && c.Specialty == "" {
				c.Specialty = cd.Code
			}
		}
	}
	m.add(&pb.Record{Kind: &pb.Record_Clinician{Clinician: c}})
}

func personName(raw json.RawMessage) string {
	var names []humanName
	if json.Unmarshal(raw, &names) != nil || len(names) == 0 {
		return ""
	}
	n := names[0]
	if n.Text != "" {
		return n.Text
	}
	return strings.TrimSpace(strings.Join(append(append([]string{}, n.Given...), n.Family), " "))
}

var sexes = map[string]pb.Sex{"female": pb.Sex_SEX_FEMALE, "male": pb.Sex_SEX_MALE, "other": pb.Sex_SEX_UNKNOWN, "unknown": pb.Sex_SEX_UNKNOWN}

func (m *mapper) patient() {
	r := m.r
	pi := m.x.patients["Patient/"+m.out.id]
	var tins []string
	if pi != nil {
		tins = pi.tins
	}
	if len(tins) == 0 && m.opts.DefaultTIN != "" {
		tins = []string{m.opts.DefaultTIN}
	}
	if len(tins) == 0 {
		m.reject("Patient.managingOrganization", "tin.unresolved",
			"no practice TIN: no managingOrganization with a TIN identifier and no encounter or claim of this patient names one; pass --tin for a single-practice export")
		return
	}
	p := &pb.Patient{SourceId: m.out.id, BirthDate: datePart(r.BirthDate), DeathDate: datePart(r.DeceasedDateTime)}
	if r.Gender != "" {
		sex, ok := sexes[r.Gender]
		if !ok {
			m.flag("Patient.gender", "gender.unknown", fmt.Sprintf("gender %q is not an R4 administrative gender; imported as unknown", r.Gender))
			sex = pb.Sex_SEX_UNKNOWN
		}
		p.Sex = sex
	}
	if len(r.BirthDate) == len("1950-06") || len(r.BirthDate) == len("1950") {
		m.flag("Patient.birthDate", "birthDate.partial", fmt.Sprintf("birth date %q is partial: an age counts only where it holds for every day it allows", r.BirthDate))
	}
	if r.DeceasedBoolean != nil && *r.DeceasedBoolean && r.DeceasedDateTime == "" {
		m.flag("Patient.deceasedBoolean", "deceased.no_date", "the patient is deceased but no date is given; Liaison needs a death date, so none is recorded")
	}
	for _, ext := range r.Extension {
		switch ext.URL {
		case raceURL:
			p.Race = append(p.Race, ombCodes(ext)...)
		case ethnicityURL:
			if codes := ombCodes(ext); len(codes) > 0 {
				p.Ethnicity = codes[0]
			}
		}
	}
	for _, tin := range tins {
		q := proto.Clone(p).(*pb.Patient)
		q.Tin = tin
		m.add(&pb.Record{Kind: &pb.Record_Patient{Patient: q}})
	}
}

// ombCodes returns a US Core race or ethnicity extension's OMB category
// codes, then its detailed codes.
//
// US Core also allows the null flavors UNK (unknown) and ASKU (asked but
// unknown) in ombCategory: they say the race or ethnicity is unknown, which
// is what no code says, so they are left out rather than sent as codes.
func ombCodes(ext extension) []string {
	var omb, detailed []string
	for _, sub := range ext.Extension {
		if sub.ValueCoding == nil || sub.ValueCoding.Code == "" || sub.ValueCoding.System == nullFlavorSystem {
			continue
		}
		switch sub.URL {
		case "ombCategory":
			omb = append(omb, sub.ValueCoding.Code)
		case "detailed":
			detailed = append(detailed, sub.ValueCoding.Code)
		}
	}
	return append(omb, detailed...)
}

// classes maps v3 ActCode encounter classes to the API's.
var classes = map[string]pb.EncounterClass{
	"AMB": pb.EncounterClass_ENCOUNTER_CLASS_AMBULATORY, "HH": pb.EncounterClass_ENCOUNTER_CLASS_AMBULATORY,
	"FLD": pb.EncounterClass_ENCOUNTER_CLASS_AMBULATORY, "EMER": pb.EncounterClass_ENCOUNTER_CLASS_EMERGENCY,
	"IMP": pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT, "ACUTE": pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT,
	"NONAC": pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT, "OBSENC": pb.EncounterClass_ENCOUNTER_CLASS_OBSERVATION,
	"SS": pb.EncounterClass_ENCOUNTER_CLASS_OBSERVATION, "VR": pb.EncounterClass_ENCOUNTER_CLASS_VIRTUAL,
}

// performerTypes rank Encounter.participant types when choosing the rendering clinician.
var performerTypes = map[string]int{"PPRF": 0, "PRF": 1, "ATND": 2, "SPRF": 3}

func (m *mapper) encounter() {
	r := m.r
	if m.skipFor("planned", "cancelled", "entered-in-error") {
		return
	}
	key := "Encounter/" + m.out.id
	e := &pb.Encounter{SourceId: m.out.id, Start: r.Period.start(), End: r.Period.end()}
	e.PatientId = m.ref("Encounter.subject", r.Subject, "Patient", true)
	if info := m.x.encounters[key]; info != nil && info.tin != "" {
		e.Tin = info.tin
	} else {
		e.Tin = m.tin("Encounter.serviceProvider", []*reference{r.ServiceProvider}, nil, r.Subject)
	}
	var class coding
	if m.decode("Encounter.class", r.Class, func(d *jd, v []byte) { d.coding(v, "class", &class) }) && class.Code != "" {
		c, ok := classes[class.Code]
		if !ok {
			m.flag("Encounter.class", "class.unknown", fmt.Sprintf("encounter class %q is not one Liaison maps (AMB, EMER, IMP, ACUTE, NONAC, OBSENC, SS, VR, HH, FLD); left unspecified", class.Code))
		}
		e.Class = c
	}
	if r.Hospitalization != nil {
		e.DischargeDate = datePart(r.Period.end())
	}
	e.RenderingNpi = m.rendering()
	var locations []encounterLocation
	m.decode("Encounter.location", r.Location, func(d *jd, v []byte) {
		objects(d, v, "location", &locations, func(l *encounterLocation, k string, v []byte) {
			if k != "location" {
				return
			}
			if r := d.reference(v, "location.location"); r != nil {
				l.Location = *r
			}
		})
	})
	for _, l := range locations {
		if _, c := m.resolve(&l.Location); c != nil {
			var types []concept
			if json.Unmarshal(c.Type, &types) == nil {
				e.PlaceOfService = posOf(types)
			}
		} else {
			e.PlaceOfService = m.x.pos[m.x.key(&l.Location)]
		}
		if e.PlaceOfService != "" {
			break
		}
	}
	if ext := m.extension(posExtensionURL); e.PlaceOfService == "" && ext != nil && ext.ValueCoding != nil {
		e.PlaceOfService = ext.ValueCoding.Code
	}
	var types []concept
	m.decode("Encounter.type", r.Type, func(d *jd, v []byte) { d.concepts(v, "type", &types) })
	for i := range types {
		if cd := m.listCode(fmt.Sprintf("Encounter.type[%d]", i), &types[i], clinical.CPT, clinical.HCPCS); cd != nil {
			e.Lines = append(e.Lines, &pb.ProcedureLine{Code: cd})
		}
	}
	e.Diagnoses = m.encounterDiagnoses(key)
	m.add(&pb.Record{Kind: &pb.Record_Encounter{Encounter: e}})
}

// rendering picks the encounter's clinician: the primary performer, else
// another performer or the attender, else the first participant with an NPI.
func (m *mapper) rendering() string {
	refs, roles := make([]*reference, len(m.r.Participant)), make([][]concept, len(m.r.Participant))
	for i, p := range m.r.Participant {
		refs[i], roles[i] = p.Individual, p.Type
	}
	return m.bestNPI(performerTypes, refs, roles)
}

// bestNPI returns the NPI of the best-ranked reference that has one (lowest
// rank of its role codes in ranks; unranked roles last; ties: the first).
func (m *mapper) bestNPI(ranks map[string]int, refs []*reference, roles [][]concept) string {
	best, bestRank := "", 99
	for i, r := range refs {
		npi := m.npi(r)
		if npi == "" {
			continue
		}
		rank := 10
		for _, c := range roles[i] {
			for _, cd := range c.Coding {
				if v, ok := ranks[cd.Code]; ok && v < rank {
					rank = v
				}
			}
		}
		if rank < bestRank {
			best, bestRank = npi, rank
		}
	}
	return best
}

// encounterDiagnoses lists Encounter.diagnosis by rank, then the Conditions
// that reference the encounter, then the encounter's reasons (reasonCode,
// and reasonReference to a Condition), as EHRs often give the diagnosis only
// as the reason for the visit; each condition and each code once.
func (m *mapper) encounterDiagnoses(key string) []*pb.Coding {
	dx := append([]diagnosis(nil), m.r.Diagnosis...)
	sort.SliceStable(dx, func(i, j int) bool { return rankOrder(dx[i].Rank) < rankOrder(dx[j].Rank) })
	var out []*pb.Coding
	var conds []string // condition keys taken
	addCondition := func(path, ck string, codes []coding) {
		if ck != "" {
			if slices.Contains(conds, ck) {
				return
			}
			conds = append(conds, ck)
		}
		cd := m.listCode(path, &concept{Coding: codes}, diagnosisSystems...)
		if cd != nil && !slices.ContainsFunc(out, func(o *pb.Coding) bool { return o.Code == cd.Code && o.System == cd.System }) {
			out = append(out, cd)
		}
	}
	for i, d := range dx {
		path := fmt.Sprintf("Encounter.diagnosis[%d].condition", i)
		k, c := m.resolve(d.Condition)
		switch {
		case c != nil && c.Code != nil:
			addCondition(path, "", c.Code.Coding)
		case m.x.conditions[k] != nil:
			addCondition(path, k, m.x.conditions[k])
		case d.Condition != nil:
			m.flag(path, "reference.unresolved", fmt.Sprintf("diagnosis %q does not resolve to a coded Condition in the export; left out", d.Condition.Reference))
		}
	}
	if info := m.x.encounters[key]; info != nil {
		for _, ck := range info.conditions {
			addCondition(ck+".code", ck, m.x.conditions[ck])
		}
	}
	for i := range m.r.ReasonCode {
		addCondition(fmt.Sprintf("Encounter.reasonCode[%d]", i), "", m.r.ReasonCode[i].Coding)
	}
	for i := range m.r.ReasonReference {
		path := fmt.Sprintf("Encounter.reasonReference[%d]", i)
		k, c := m.resolve(&m.r.ReasonReference[i])
		switch {
		case c != nil && c.ResourceType == "Condition" && c.Code != nil && !refuted(c.VerificationStatus):
			addCondition(path, "", c.Code.Coding)
		case m.x.conditions[k] != nil:
			addCondition(path, k, m.x.conditions[k])
		case m.x.refuted[k] || c != nil:
			// refuted, or a contained resource that is no coded Condition: not a diagnosis
		case k == "" || strings.HasPrefix(k, "Condition/"):
			m.flag(path, "reference.unresolved", fmt.Sprintf("reason %q does not resolve to a coded Condition in the export; left out", refText(&m.r.ReasonReference[i])))
		}
		// A reason that is an Observation or a Procedure is not a diagnosis.
	}
	return out
}

func rankOrder(r int) int {
	if r <= 0 {
		return 1 << 30
	}
	return r
}

// verificationSkip are the Condition verification statuses that mean the
// diagnosis does not hold.
var verificationSkip = map[string]bool{"refuted": true, "entered-in-error": true}

func (m *mapper) condition() {
	r := m.r
	if refuted(r.VerificationStatus) {
		for _, cd := range r.VerificationStatus.Coding {
			if verificationSkip[cd.Code] {
				m.out.skip = "Condition (" + cd.Code + ")"
			}
		}
		return
	}
	c := &pb.Condition{SourceId: m.out.id,
		Code:      m.code("Condition.code", r.Code, diagnosisSystems...),
		OnsetDate: first(r.OnsetDateTime, r.OnsetPeriod.start(), r.RecordedDate)}
	c.PatientId = m.ref("Condition.subject", r.Subject, "Patient", true)
	c.EncounterId = m.ref("Condition.encounter", r.Encounter, "Encounter", false)
	c.Tin = m.tin("Condition", nil, r.Encounter, r.Subject)
	m.add(&pb.Record{Kind: &pb.Record_Condition{Condition: c}})
}

func (m *mapper) procedure() {
	r := m.r
	if m.skipFor("entered-in-error") {
		return
	}
	if m.careProcedure() {
		return
	}
	p := &pb.Procedure{SourceId: m.out.id, NotDone: r.Status == "not-done",
		Code: m.code("Procedure.code", r.Code, clinical.CPT, clinical.HCPCS, clinical.ICD10PCS, clinical.SNOMEDCT),
		Date: first(r.PerformedDateTime, r.PerformedPeriod.start())}
	p.PatientId = m.ref("Procedure.subject", r.Subject, "Patient", true)
	p.EncounterId = m.ref("Procedure.encounter", r.Encounter, "Encounter", false)
	// A procedure documented as not done usually has no performed[x]; it was decided at the encounter.
	p.Date = m.orEncounterStart(p.Date, p.EncounterId)
	p.Npi, p.Tin = m.procedurePerformers()
	m.add(&pb.Record{Kind: &pb.Record_Procedure{Procedure: p}})
}

// orEncounterStart is date, or when it is empty the start of the encounter
// with id encounterID, if the export has it.
func (m *mapper) orEncounterStart(date, encounterID string) string {
	if date == "" && encounterID != "" {
		if e := m.x.encounters["Encounter/"+encounterID]; e != nil {
			return e.start
		}
	}
	return date
}

// procedurePerformers reads a Procedure's performers: the first NPI among
// their actors, and the practice from the organizations they act for, else
// the encounter's or the patient's.
func (m *mapper) procedurePerformers() (npi, tin string) {
	r := m.r
	var orgs []*reference
	var performers []performer
	m.decode("Procedure.performer", r.Performer, readPerformers(&performers))
	for _, pf := range performers {
		if npi == "" {
			npi = m.npi(pf.Actor)
		}
		orgs = append(orgs, pf.OnBehalfOf)
	}
	return npi, m.tin("Procedure.performer", orgs, r.Encounter, r.Subject)
}

var medicationSystems = []clinical.System{clinical.RxNorm, clinical.NDC, clinical.HCPCS}

func (m *mapper) medication() {
	r := m.r
	if m.skipFor("entered-in-error", "cancelled") {
		return
	}
	// A proposal or a drug not given records a care step, not treatment (medcare.go).
	step, reason, reasonText, isStep := m.careStep()
	// "not-taken" and "intended" are MedicationStatement's: the patient is not taking it.
	if !isStep && m.skipFor("not-done", "declined", "not-taken", "intended") {
		return
	}
	typ := r.ResourceType
	ev := &pb.MedicationEvent{SourceId: typ + "/" + m.out.id}
	ev.PatientId = m.ref(typ+".subject", r.Subject, "Patient", true)
	enc := r.Encounter
	if enc == nil {
		enc = r.Context
	}
	var orgs []*reference
	switch typ {
	case "MedicationRequest":
		ev.Kind, ev.Date = pb.MedicationKind_MEDICATION_KIND_ORDER, r.AuthoredOn
		ev.Npi = m.npi(r.Requester)
		orgs = append(orgs, r.Requester)
		if d := r.DispenseRequest; d != nil {
			ev.DaysSupply = days(d.ExpectedSupplyDuration)
			if d.Quantity != nil && d.Quantity.Value != nil {
				ev.Quantity = *d.Quantity.Value
			}
		}
	case "MedicationDispense":
		ev.Kind, ev.Date = pb.MedicationKind_MEDICATION_KIND_DISPENSE, first(r.WhenHandedOver, r.WhenPrepared)
		ev.DaysSupply = days(r.DaysSupply)
		if r.Quantity != nil && r.Quantity.Value != nil {
			ev.Quantity = *r.Quantity.Value
		}
	case "MedicationAdministration":
		ev.Kind, ev.Date = pb.MedicationKind_MEDICATION_KIND_ADMINISTRATION, first(r.EffectiveDateTime, r.EffectivePeriod.start())
	case "MedicationStatement":
		// The patient is taking the drug: from when, for how long when the period is closed.
		ev.Kind, ev.Date = pb.MedicationKind_MEDICATION_KIND_STATEMENT, first(r.EffectiveDateTime, r.EffectivePeriod.start(), r.DateAsserted)
		ev.DaysSupply = periodDays(r.EffectivePeriod)
		orgs = append(orgs, r.InformationSource)
	}
	var performers []performer
	if typ == "MedicationDispense" || typ == "MedicationAdministration" { // MedicationRequest's performer is the intended dispenser, one Reference
		m.decode(typ+".performer", r.Performer, readPerformers(&performers))
	}
	for _, pf := range performers {
		if ev.Npi == "" {
			ev.Npi = m.npi(pf.Actor)
		}
		orgs = append(orgs, pf.Actor, pf.OnBehalfOf)
	}
	ev.Code, ev.Display = m.medicationCode(typ)
	ev.Tin = m.tin(typ, orgs, enc, r.Subject)
	if isStep {
		m.careMedication(step, reason, reasonText, ev)
		return
	}
	m.add(&pb.Record{Kind: &pb.Record_Medication{Medication: ev}})
}

// medicationCode returns the drug's code and its name as sent (every
// coding's display and the concept's text, for matching by ingredient name
// when no list knows the code).
func (m *mapper) medicationCode(typ string) (*pb.Coding, string) {
	r := m.r
	if r.MedicationCodeableConcept != nil {
		return m.code(typ+".medicationCodeableConcept", r.MedicationCodeableConcept, medicationSystems...), drugName(r.MedicationCodeableConcept)
	}
	if r.MedicationReference == nil {
		return nil, ""
	}
	k, c := m.resolve(r.MedicationReference)
	var med concept
	switch {
	case c != nil && c.Code != nil:
		med = *c.Code
	case m.x.meds[k] != nil:
		med = *m.x.meds[k]
	default:
		m.reject(typ+".medicationReference", "reference.unresolved", fmt.Sprintf("medication %q does not resolve to a coded Medication in the export", r.MedicationReference.Reference))
		return nil, ""
	}
	return m.code(typ+".medicationReference.code", &med, medicationSystems...), drugName(&med)
}

// maxDrugName bounds the name kept with a medication.
const maxDrugName = 500

// drugName joins a concept's text and its codings' displays, each once.
func drugName(c *concept) string {
	var parts []string
	add := func(s string) {
		if s = strings.TrimSpace(s); s != "" && !slices.Contains(parts, s) {
			parts = append(parts, s)
		}
	}
	add(c.Text)
	for _, cd := range c.Coding {
		add(cd.Display)
	}
	name := strings.Join(parts, " | ")
	if len(name) > maxDrugName {
		name = strings.ToValidUTF8(name[:maxDrugName], "")
	}
	return name
}

// periodDays is the number of days a closed period spans, both ends
// counted, by the dates it was written with; 0 when it is open.
func periodDays(p *period) int32 {
	if p == nil || p.Start == "" || p.End == "" {
		return 0
	}
	from, _, err1 := clinical.ParseDateOrTime(p.Start, nil)
	to, _, err2 := clinical.ParseDateOrTime(p.End, nil)
	if err1 != nil || err2 != nil || to < from {
		return 0
	}
	return int32(to-from) + 1
}

// study maps a DiagnosticReport or an Observation whose code is a test a
// measure counts as a procedure (a DXA scan's report or its bone-density
// result) to a procedure record on its effective date; other reports and
// observations (labs, vital signs) are skipped.
func (m *mapper) study() {
	r := m.r
	typ := r.ResourceType
	if m.skipFor("registered", "cancelled", "entered-in-error") {
		return
	}
	if typ == "Observation" {
		if e := m.careObservation(); e != nil {
			npi, orgs := m.studyPerformers(typ)
			e.Npi, e.Tin = npi, m.tin(typ+".performer", orgs, r.Encounter, r.Subject)
			m.add(&pb.Record{Kind: &pb.Record_CareEvent{CareEvent: e}})
			return
		}
	}
	var code *pb.Coding
	if m.opts.ProcedureCode != nil && r.Code != nil {
		for _, cd := range r.Code.Coding {
			s, ok := system(cd)
			if !ok {
				continue
			}
			if norm, err := clinical.NormalizeCode(s, cd.Code); err == nil && m.opts.ProcedureCode(clinical.Code{System: s, Code: norm}) {
				code = &pb.Coding{System: string(s), Code: cd.Code}
				break
			}
		}
	}
	if code == nil {
		m.out.skip = typ + " (not a test a measure counts)"
		return
	}
	p := &pb.Procedure{SourceId: typ + "/" + m.out.id, Code: code,
		Date: first(r.EffectiveDateTime, r.EffectivePeriod.start(), r.EffectiveInstant, r.Issued)}
	p.PatientId = m.ref(typ+".subject", r.Subject, "Patient", true)
	p.EncounterId = m.ref(typ+".encounter", r.Encounter, "Encounter", false)
	if p.Date == "" && p.EncounterId != "" {
		if e := m.x.encounters["Encounter/"+p.EncounterId]; e != nil {
			p.Date = e.start
		}
	}
	var orgs []*reference
	p.Npi, orgs = m.studyPerformers(typ)
	p.Tin = m.tin(typ+".performer", orgs, r.Encounter, r.Subject)
	m.add(&pb.Record{Kind: &pb.Record_Procedure{Procedure: p}})
}

// studyPerformers reads a DiagnosticReport's or Observation's performers:
// the first NPI among them, and all of them as organizations that may give
// the practice.
func (m *mapper) studyPerformers(typ string) (npi string, orgs []*reference) {
	var performers []reference
	m.decode(typ+".performer", m.r.Performer, func(d *jd, v []byte) {
		objects(d, v, "performer", &performers, func(x *reference, k string, v []byte) { d.referenceField(x, "performer", k, v) })
	})
	for i := range performers {
		if npi == "" {
			npi = m.npi(&performers[i])
		}
		orgs = append(orgs, &performers[i])
	}
	return npi, orgs
}

// operationOutcome notes a bulk export's error entries (its error files
// hold OperationOutcomes): they are not data, but say that some may be
// missing, so each warning or error is flagged with what the exporter said.
func (m *mapper) operationOutcome() {
	m.out.skip = "OperationOutcome (the exporter's messages)"
	var said []string
	for _, is := range m.r.Issue {
		if is.Severity == "information" {
			continue // e.g. a searchset's note on the search itself
		}
		text := is.Diagnostics
		if text == "" && is.Details != nil {
			text = is.Details.Text
		}
		said = append(said, strings.TrimSpace(is.Severity+" "+is.Code+": "+text))
	}
	if len(said) == 0 {
		return
	}
	m.flag("OperationOutcome.issue", "export.outcome", "the exporter reported: "+strings.Join(said, "; ")+"; not data, skipped")
}

// days reads a supply duration as whole days (UCUM d, wk, mo).
func days(q *quantity) int32 {
	if q == nil || q.Value == nil {
		return 0
	}
	v := *q.Value
	switch strings.ToLower(first(q.Code, q.Unit)) {
	case "wk", "week", "weeks":
		v *= 7
	case "mo", "month", "months":
		v *= 30
	}
	return int32(v + 0.5)
}

func (m *mapper) coverage() {
	r := m.r
	if m.skipFor("cancelled", "entered-in-error", "draft") {
		return
	}
	c := &pb.Coverage{SourceId: m.out.id, StartDate: datePart(r.Period.start()), EndDate: datePart(r.Period.end())}
	c.PatientId = m.ref("Coverage.beneficiary", r.Beneficiary, "Patient", true)
	var typ *concept
	if m.decode("Coverage.type", r.Type, func(d *jd, v []byte) { typ = d.concept(v, "type") }) && typ != nil {
		c.PayerType = payerType(*typ)
	}
	c.Tin = m.tin("Coverage.beneficiary", nil, nil, r.Beneficiary)
	m.add(&pb.Record{Kind: &pb.Record_Coverage{Coverage: c}})
}

// payerType reads Coverage.type: a Source of Payment Typology code (1
// Medicare, 2 Medicaid, 5/6 private) or, failing that, its words.
func payerType(c concept) string {
	for _, cd := range c.Coding {
		if cd.System == "https://nahdo.org/sopt" || cd.System == "urn:oid:2.16.840.1.113883.3.221.5" {
			switch {
			case strings.HasPrefix(cd.Code, "1"):
				return "medicare"
			case strings.HasPrefix(cd.Code, "2"):
				return "medicaid"
			case strings.HasPrefix(cd.Code, "5"), strings.HasPrefix(cd.Code, "6"):
				return "private"
			case cd.Code != "":
				return "other"
			}
		}
	}
	words := strings.ToLower(c.Text)
	for _, cd := range c.Coding {
		words += " " + strings.ToLower(cd.Display+" "+cd.Code)
	}
	switch {
	case strings.Contains(words, "medicare"):
		return "medicare"
	case strings.Contains(words, "medicaid"):
		return "medicaid"
	case strings.TrimSpace(words) != "":
		return "other"
	}
	return ""
}

// Institutional flags come from EpisodeOfCare, whose type says what the
// episode is: hospice care by its SNOMED CT concept 385763009 (Hospice care,
// regime/therapy), or any of the three by Liaison's own code system, which
// `liaison synth --format fhir` writes.
const institutionalSystem = "https://liaison-registry.github.io/fhir/CodeSystem/institutional-flag"

var institutionalCodes = map[string]pb.InstitutionalFlagKind{
	"hospice":               pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_HOSPICE,
	"long-term-institution": pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_LONG_TERM_INSTITUTION,
	"i-snp":                 pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_I_SNP,
}

func institutionalKind(c coding) pb.InstitutionalFlagKind {
	if c.System == institutionalSystem {
		return institutionalCodes[c.Code]
	}
	if s, ok := systemOf(c.System); ok && s == clinical.SNOMEDCT && c.Code == "385763009" {
		return pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_HOSPICE
	}
	return pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_UNSPECIFIED
}

func (m *mapper) episodeOfCare() {
	r := m.r
	if m.skipFor("planned", "waitlist", "cancelled", "entered-in-error") {
		return
	}
	var types []concept
	m.decode("EpisodeOfCare.type", r.Type, func(d *jd, v []byte) { d.concepts(v, "type", &types) })
	var kind pb.InstitutionalFlagKind
	for _, t := range types {
		for _, c := range t.Coding {
			if kind == 0 {
				kind = institutionalKind(c)
			}
		}
	}
	if kind == 0 {
		// Episodes of other kinds (diabetes programmes, home care) are not
		// statuses any measure excludes on.
		m.out.skip = "EpisodeOfCare (not hospice, long-term institution or I-SNP)"
		return
	}
	f := &pb.InstitutionalFlag{SourceId: m.out.id, Kind: kind, StartDate: datePart(r.Period.start()), EndDate: datePart(r.Period.end())}
	f.PatientId = m.ref("EpisodeOfCare.patient", r.Patient, "Patient", true)
	f.Tin = m.tin("EpisodeOfCare.managingOrganization", []*reference{r.ManagingOrganization}, nil, r.Patient)
	m.add(&pb.Record{Kind: &pb.Record_InstitutionalFlag{InstitutionalFlag: f}})
}
