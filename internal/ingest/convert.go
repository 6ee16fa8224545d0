// Package ingest turns API records into domain records, checking every rule
// a record must meet, and stores valid ones atomically. Every input format
// (API, native NDJSON, FHIR, CSV) goes through Convert, so the rules live in
// one place.
package ingest

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/schema"
	"github.com/liaison-registry/liaison/internal/wire"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Record is a converted, individually valid record with its position.
type Record struct {
	Index int64
	Type  string
	// Kind is the record's kind field ("quality_code"), where paths start.
	Kind  string
	TIN   string
	ID    string
	Value any // one of the clinical record types
	// PatientRef and EncounterRef are the keys this record points at; they
	// are resolved against the request and the store afterwards.
	PatientRef   string
	EncounterRef string
}

// Zones resolves a TIN to the time zone its datetimes are read in; nil means
// the practice has none, so a datetime keeps the date it was written with.
type Zones func(tin string) *time.Location

// Convert checks rec against every rule that needs no other record and
// returns the domain record, or the rejections (one per broken rule).
// Rejections name the field by its path from the record, starting with the
// record's kind ("patient.birth_date", "encounter.lines[0].code.code").
//
// What the record carries that the API schema does not know breaks
// field.unknown or enum.unknown (internal/schema words them): unknown field
// numbers and enum numbers sent over gRPC, and unknown JSON keys and enum
// names the REST gateway kept (schema.UnmarshalJSON). Convert looks at
// every message of the record with typed code rather than schema.Check's
// reflection, which cost ten times as much per record; a test holds the
// two to the same answers.
func Convert(index int64, rec *pb.Record, zones Zones) (Record, []*pb.Rejection) {
	c := &checker{index: index}
	out := Record{Index: index}
	if rec == nil {
		rec = &pb.Record{}
	}
	c.known("", rec) // before the kind is set: the record's own fields
	// c.kind is the kind's field name in the schema (a test holds these to
	// it): reflection's WhichOneof cost 7% of Convert.
	switch k := rec.GetKind().(type) {
	case *pb.Record_Practice:
		c.kind = "practice"
		out.Value = c.practice(k.Practice)
	case *pb.Record_Clinician:
		c.kind = "clinician"
		out.Value = c.clinician(k.Clinician)
	case *pb.Record_Patient:
		c.kind = "patient"
		out.Value = c.patient(k.Patient)
	case *pb.Record_Encounter:
		c.kind = "encounter"
		out.Value = c.encounter(k.Encounter, zones)
	case *pb.Record_Procedure:
		c.kind = "procedure"
		out.Value = c.procedure(k.Procedure, zones)
	case *pb.Record_Condition:
		c.kind = "condition"
		out.Value = c.condition(k.Condition, zones)
	case *pb.Record_Medication:
		c.kind = "medication"
		out.Value = c.medication(k.Medication, zones)
	case *pb.Record_QualityCode:
		c.kind = "quality_code"
		out.Value = c.quality(k.QualityCode, zones)
	case *pb.Record_Coverage:
		c.kind = "coverage"
		out.Value = c.coverage(k.Coverage)
	case *pb.Record_InstitutionalFlag:
		c.kind = "institutional_flag"
		out.Value = c.flag(k.InstitutionalFlag)
	case *pb.Record_CareEvent:
		c.kind = "care_event"
		out.Value = c.careEvent(k.CareEvent, zones)
	default:
		c.typ = "unknown"
		c.fail("kind", "record.kind", "record has no kind: set one of practice, clinician, patient, encounter, procedure, condition, medication, qualityCode, coverage, institutionalFlag, careEvent")
	}
	for _, p := range c.unknown {
		c.failAt(p.Path, p.Rule, p.Message)
	}
	out.Type, out.Kind, out.TIN, out.ID = c.typ, c.kind, c.tin, c.id
	out.PatientRef, out.EncounterRef = c.patientRef, c.encounterRef
	return out, c.rejections
}

// checker accumulates the rejections of one record.
type checker struct {
	index                    int64
	typ, tin, id             string
	kind                     string // the record's kind field, e.g. "quality_code": the first element of field paths
	patientRef, encounterRef string
	birthPrec                clinical.Precision
	rejections               []*pb.Rejection
	// unknown holds what the schema does not know, found before the
	// record's key is read; reported after the other rules.
	unknown []schema.Problem
}

// fail reports a broken rule at field, a path within the record's kind.
func (c *checker) fail(field, rule, msg string) { c.failAt(c.path(field), rule, msg) }

// failAt reports a broken rule at a path from the record.
func (c *checker) failAt(path, rule, msg string) {
	c.rejections = append(c.rejections, &pb.Rejection{
		Index: c.index, RecordType: c.typ, Tin: c.tin, SourceId: c.id, Field: path, Rule: rule, Message: msg,
	})
}

// path turns a field within the record's kind into a path from the record.
func (c *checker) path(field string) string {
	switch {
	case c.kind == "":
		return field
	case field == "":
		return c.kind
	}
	return c.kind + "." + field
}

// known notes what m, at field (within the kind; "" for the kind's own
// message, or the record before its kind is set), carries that the schema
// does not know. A message with no unknown fields costs a length check.
func (c *checker) known(field string, m proto.Message) {
	for _, p := range schema.Unknown(m.ProtoReflect()) {
		if field != "" {
			p.Path = field + "." + p.Path
		}
		p.Path = c.path(p.Path)
		c.unknown = append(c.unknown, p)
	}
}

// knownAll is known for each message of a list.
func knownAll[M proto.Message](c *checker, field string, list []M) {
	for i, m := range list {
		c.known(field+"["+strconv.Itoa(i)+"]", m)
	}
}

// noted reports whether field (within the kind) already holds an unknown
// enum name the gateway kept, so the zero value it left is not reported again.
func (c *checker) noted(field string) bool {
	path := c.path(field)
	for _, p := range c.unknown {
		if p.Path == path && p.Rule == schema.RuleEnum {
			return true
		}
	}
	return false
}

// keyed checks the (tin, source_id) key every practice record carries.
func (c *checker) keyed(typ, tin, id string) {
	c.typ, c.tin, c.id = typ, tin, id
	if !clinical.ValidTIN(tin) {
		c.fail("tin", "tin.format", fmt.Sprintf("TIN %q must be exactly 9 digits", tin))
	}
	switch {
	case id == "":
		c.fail("source_id", "source_id.required", "source_id is required: it is the record's key within the TIN")
	case len(id) > maxID:
		c.fail("source_id", "source_id.length", fmt.Sprintf("source_id is longer than %d characters", maxID))
	default:
		c.text("source_id", id, maxID)
	}
}

// maxQuantity bounds a dispensed quantity (units, tablets, mL): far above
// any real fill, and finite.
const maxQuantity = 1_000_000

// Bounds of free text, in bytes: ids (a record's key or a reference to
// one), names, short labels, and a record's origin or a drug's display.
const (
	maxID     = 200
	maxName   = 200
	maxLabel  = 50
	maxOrigin = 500
)

// text checks a free-text field: no NUL byte (PostgreSQL text cannot hold
// one), valid UTF-8, at most max bytes. Fields with a format (codes, dates,
// NPIs) are checked by it instead.
func (c *checker) text(field, s string, max int) {
	switch {
	case len(s) > max:
		c.fail(field, "text.length", fmt.Sprintf("%s is %d bytes; at most %d", field, len(s), max))
	case strings.Contains(s, schema.InvalidUTF8) || !utf8.ValidString(s):
		c.fail(field, "text.utf8", field+" is not valid UTF-8")
	case strings.IndexByte(s, 0) >= 0:
		c.fail(field, "text.nul", field+" contains a NUL byte (U+0000), which no text field may hold")
	}
}

func (c *checker) origin(o string) string {
	if len(o) > maxOrigin {
		c.fail("origin", "origin.length", fmt.Sprintf("origin is %d characters; at most %d", len(o), maxOrigin))
	} else {
		c.text("origin", o, maxOrigin)
	}
	return o
}

func (c *checker) patientOf(field, id string) {
	c.patientRef = id
	if id == "" {
		c.fail(field, "reference.required", "patient_id is required")
	}
	c.text(field, id, maxID)
}

// encounterOf notes a reference to an encounter (optional).
func (c *checker) encounterOf(field, id string) {
	c.encounterRef = id
	c.text(field, id, maxID)
}

func (c *checker) npi(field, npi string, required bool) {
	switch {
	case npi == "" && !required:
	case len(npi) != 10 || strings.Trim(npi, "0123456789") != "":
		c.fail(field, "npi.format", fmt.Sprintf("NPI %q must be 10 digits", npi))
	case !clinical.ValidNPI(npi):
		c.fail(field, "npi.check_digit", fmt.Sprintf("NPI %q fails the check digit (Luhn with prefix 80840)", npi))
	}
}

func (c *checker) date(field, s string, required bool) clinical.NullDate {
	if s == "" {
		if required {
			c.fail(field, "date.required", field+" is required (YYYY-MM-DD)")
		}
		return clinical.NullDate{}
	}
	d, err := clinical.ParseDate(s)
	if err != nil {
		c.fail(field, "date.format", err.Error())
		return clinical.NullDate{}
	}
	return c.inRange(field, d)
}

// The dates the API takes: wide enough for any birth and any care, and well
// inside what timestamps hold to the nanosecond (1678-2262), so a datetime
// comes back exactly as it was stored.
var (
	firstDate = clinical.NewDate(1800, 1, 1)
	lastDate  = clinical.NewDate(2199, 12, 31)
)

// inRange refuses a date outside the range the API takes.
func (c *checker) inRange(field string, d clinical.Date) clinical.NullDate {
	if d < firstDate || d > lastDate {
		c.fail(field, "date.range", fmt.Sprintf("%s %s is outside the dates the API takes (%s to %s)", field, d, firstDate, lastDate))
		return clinical.NullDate{}
	}
	return clinical.Some(d)
}

// when parses a date or datetime, reducing a datetime in the practice's zone.
func (c *checker) when(field, s string, required bool, zones Zones) (clinical.NullDate, time.Time) {
	d, at, err := clinical.ParseDateOrTime(s, zones(c.tin))
	switch {
	case errors.Is(err, clinical.ErrNoValue):
		if required {
			c.fail(field, "date.required", field+" is required (YYYY-MM-DD or a datetime)")
		}
		return clinical.NullDate{}, time.Time{}
	case err != nil:
		c.fail(field, "date.format", err.Error())
		return clinical.NullDate{}, time.Time{}
	}
	if nd := c.inRange(field, d); !nd.Valid {
		return nd, time.Time{}
	}
	return clinical.Some(d), at
}

func (c *checker) order(field string, start, end clinical.NullDate, what string) {
	if start.Valid && end.Valid && end.Date < start.Date {
		c.fail(field, "date.order", fmt.Sprintf("%s %s is before %s", field, end.Date, what+" "+start.Date.String()))
	}
}

// code checks a coding against its system; allowed limits the systems a
// field takes (nil: any known system).
func (c *checker) code(field string, cd *pb.Coding, allowed ...clinical.System) clinical.Code {
	if cd != nil {
		c.known(field, cd)
	}
	if cd == nil || cd.Code == "" {
		c.fail(field, "code.required", field+" is required")
		return clinical.Code{}
	}
	sys, err := clinical.ParseSystem(cd.System)
	if err != nil {
		c.fail(field+".system", "code.system", err.Error())
		return clinical.Code{}
	}
	if len(allowed) > 0 && !slices.Contains(allowed, sys) {
		c.fail(field+".system", "code.system_not_allowed", fmt.Sprintf("%s codes are not accepted here (accepted: %s)", sys, joinSystems(allowed)))
		return clinical.Code{}
	}
	norm, err := clinical.NormalizeCode(sys, cd.Code)
	if err != nil {
		c.fail(field+".code", "code.format", err.Error())
		return clinical.Code{}
	}
	return clinical.Code{System: sys, Code: norm}
}

func (c *checker) modifiers(field string, ms []string) []string {
	if len(ms) == 0 {
		return nil
	}
	out := make([]string, 0, len(ms))
	for i, m := range ms {
		norm, err := clinical.NormalizeModifier(m)
		if err != nil {
			c.fail(fmt.Sprintf("%s[%d]", field, i), "modifier.format", err.Error())
			continue
		}
		out = append(out, norm)
	}
	return out
}

func (c *checker) practice(p *pb.Practice) clinical.Practice {
	c.known("", p)
	c.typ, c.tin, c.id = "practice", p.GetTin(), p.GetTin()
	if !clinical.ValidTIN(p.GetTin()) {
		c.fail("tin", "tin.format", fmt.Sprintf("TIN %q must be exactly 9 digits", p.GetTin()))
	}
	if _, err := time.LoadLocation(p.GetTimeZone()); err != nil || strings.EqualFold(p.GetTimeZone(), "local") {
		c.fail("time_zone", "time_zone.unknown", fmt.Sprintf("time zone %q is not an IANA time zone name", p.GetTimeZone()))
	}
	c.text("name", p.GetName(), maxName)
	return clinical.Practice{TIN: p.GetTin(), Name: p.GetName(), TimeZone: p.GetTimeZone()}
}

func (c *checker) clinician(p *pb.Clinician) clinical.Clinician {
	c.known("", p)
	c.typ, c.id = "clinician", p.GetNpi()
	c.npi("npi", p.GetNpi(), true)
	c.text("name", p.GetName(), maxName)
	c.text("specialty", p.GetSpecialty(), maxLabel)
	return clinical.Clinician{NPI: p.GetNpi(), Name: p.GetName(), Specialty: p.GetSpecialty()}
}

func (c *checker) patient(p *pb.Patient) clinical.Patient {
	c.known("", p)
	c.keyed("patient", p.GetTin(), p.GetSourceId())
	out := clinical.Patient{TIN: p.GetTin(), SourceID: p.GetSourceId(), Race: p.GetRace(), Ethnicity: p.GetEthnicity(), PayerType: p.GetPayerType(),
		Origin: c.origin(p.GetOrigin())}
	birth := c.birthDate(p.GetBirthDate())
	out.BirthDate, out.BirthPrec = birth.Date, c.birthPrec
	out.DeathDate = c.date("death_date", p.GetDeathDate(), false)
	c.order("death_date", birth, out.DeathDate, "birth_date")
	out.Sex = enum(c, "sex", schema.RuleEnum, "sex %v is not supported", wire.Sexes, p.GetSex())
	for i, r := range p.GetRace() {
		if !cdcCode(r) {
			c.fail(fmt.Sprintf("race[%d]", i), "race.format", fmt.Sprintf("race %q is not a CDC race code like 2106-3", r))
		}
	}
	c.text("payer_type", p.GetPayerType(), maxLabel)
	if e := p.GetEthnicity(); e != "" && !cdcCode(e) {
		c.fail("ethnicity", "ethnicity.format", fmt.Sprintf("ethnicity %q is not a CDC ethnicity code like 2186-5", e))
	}
	return out
}

// birthDate takes a full or partial birth date (FHIR allows "1950-06" and
// "1950"); a partial one is kept as its first day with its precision.
func (c *checker) birthDate(s string) clinical.NullDate {
	if s == "" {
		c.fail("birth_date", "date.required", "birth_date is required (YYYY-MM-DD, or a partial date YYYY-MM or YYYY)")
		return clinical.NullDate{}
	}
	d, prec, err := clinical.ParsePartialDate(s)
	if err != nil {
		c.fail("birth_date", "date.format", err.Error())
		return clinical.NullDate{}
	}
	c.birthPrec = prec
	return c.inRange("birth_date", d)
}

// cdcCode reports whether s has the shape of a CDC Race & Ethnicity code (NNNN-N).
func cdcCode(s string) bool {
	return len(s) == 6 && s[4] == '-' && strings.Trim(s[:4]+s[5:], "0123456789") == ""
}

func (c *checker) encounter(e *pb.Encounter, zones Zones) clinical.Encounter {
	c.known("", e)
	c.keyed("encounter", e.GetTin(), e.GetSourceId())
	c.patientOf("patient_id", e.GetPatientId())
	c.npi("rendering_npi", e.GetRenderingNpi(), false)
	out := clinical.Encounter{TIN: e.GetTin(), SourceID: e.GetSourceId(), PatientID: e.GetPatientId(), RenderingNPI: e.GetRenderingNpi(), POS: e.GetPlaceOfService(),
		Origin: c.origin(e.GetOrigin())}
	start, startAt := c.when("start", e.GetStart(), true, zones)
	end, endAt := c.when("end", e.GetEnd(), false, zones)
	c.order("end", start, end, "start")
	if !startAt.IsZero() && !endAt.IsZero() && endAt.Before(startAt) {
		c.fail("end", "date.order", fmt.Sprintf("end %s is before start %s", e.GetEnd(), e.GetStart()))
	}
	out.Start, out.StartAt, out.End, out.EndAt = start.Date, startAt, end, endAt
	out.Discharge = c.date("discharge_date", e.GetDischargeDate(), false)
	c.order("discharge_date", start, out.Discharge, "start")
	out.Class = enum(c, "class", schema.RuleEnum, "class %v is not supported", wire.Classes, e.GetClass())
	if pos := e.GetPlaceOfService(); pos != "" && !clinical.ValidPOS(pos) {
		c.fail("place_of_service", "pos.format", fmt.Sprintf("place of service %q must be a two-digit CMS code", pos))
	}
	knownAll(c, "lines", e.GetLines())
	for i, l := range e.GetLines() {
		f := fmt.Sprintf("lines[%d]", i)
		out.Lines = append(out.Lines, clinical.Line{
			Code:      c.code(f+".code", l.GetCode(), clinical.CPT, clinical.HCPCS),
			Modifiers: c.modifiers(f+".modifiers", l.GetModifiers()),
		})
	}
	for i, d := range e.GetDiagnoses() {
		out.Diagnoses = append(out.Diagnoses, c.code(fmt.Sprintf("diagnoses[%d]", i), d, clinical.ICD10CM, clinical.ICD9CM, clinical.SNOMEDCT))
	}
	return out
}

func (c *checker) procedure(p *pb.Procedure, zones Zones) clinical.Procedure {
	c.known("", p)
	c.keyed("procedure", p.GetTin(), p.GetSourceId())
	c.patientOf("patient_id", p.GetPatientId())
	c.encounterOf("encounter_id", p.GetEncounterId())
	c.npi("npi", p.GetNpi(), false)
	date, _ := c.when("date", p.GetDate(), true, zones)
	return clinical.Procedure{TIN: p.GetTin(), SourceID: p.GetSourceId(), PatientID: p.GetPatientId(), Date: date.Date,
		Code: c.code("code", p.GetCode(), clinical.CPT, clinical.HCPCS, clinical.SNOMEDCT, clinical.ICD10PCS, clinical.LOINC),
		NPI:  p.GetNpi(), EncounterID: p.GetEncounterId(), NotDone: p.GetNotDone(), Origin: c.origin(p.GetOrigin())}
}

func (c *checker) condition(p *pb.Condition, zones Zones) clinical.Condition {
	c.known("", p)
	c.keyed("condition", p.GetTin(), p.GetSourceId())
	c.patientOf("patient_id", p.GetPatientId())
	c.encounterOf("encounter_id", p.GetEncounterId())
	onset, _ := c.when("onset_date", p.GetOnsetDate(), true, zones)
	return clinical.Condition{TIN: p.GetTin(), SourceID: p.GetSourceId(), PatientID: p.GetPatientId(), Onset: onset.Date,
		Code: c.code("code", p.GetCode(), clinical.ICD10CM, clinical.ICD9CM, clinical.SNOMEDCT), EncounterID: p.GetEncounterId(),
		Origin: c.origin(p.GetOrigin())}
}

func (c *checker) medication(m *pb.MedicationEvent, zones Zones) clinical.MedicationEvent {
	c.known("", m)
	c.keyed("medication", m.GetTin(), m.GetSourceId())
	c.patientOf("patient_id", m.GetPatientId())
	c.npi("npi", m.GetNpi(), false)
	kind := enum(c, "kind", "enum.required", "kind %d: must be order, dispense, administration or statement", wire.MedicationKinds, m.GetKind())
	if m.GetDaysSupply() < 0 {
		c.fail("days_supply", "days_supply.negative", fmt.Sprintf("days supply %d must be 0 or more", m.GetDaysSupply()))
	}
	if q := m.GetQuantity(); q < 0 || q != q || q > maxQuantity {
		c.fail("quantity", "quantity.range", fmt.Sprintf("quantity must be a number from 0 to %d", maxQuantity))
	}
	c.text("display", m.GetDisplay(), maxOrigin)
	date, _ := c.when("date", m.GetDate(), true, zones)
	return clinical.MedicationEvent{TIN: m.GetTin(), SourceID: m.GetSourceId(), PatientID: m.GetPatientId(), Kind: kind, Date: date.Date,
		Code:       c.code("code", m.GetCode(), clinical.RxNorm, clinical.NDC, clinical.HCPCS),
		DaysSupply: m.GetDaysSupply(), Quantity: m.GetQuantity(), NPI: m.GetNpi(), Display: m.GetDisplay(), Origin: c.origin(m.GetOrigin())}
}

func (c *checker) quality(q *pb.QualityCode, zones Zones) clinical.QualityCode {
	c.known("", q)
	c.keyed("qualityCode", q.GetTin(), q.GetSourceId())
	c.patientOf("patient_id", q.GetPatientId())
	c.encounterOf("encounter_id", q.GetEncounterId())
	c.npi("npi", q.GetNpi(), false)
	date, _ := c.when("date", q.GetDate(), true, zones)
	return clinical.QualityCode{TIN: q.GetTin(), SourceID: q.GetSourceId(), PatientID: q.GetPatientId(), Date: date.Date,
		Code:      c.code("code", q.GetCode(), clinical.CPT, clinical.HCPCS),
		Modifiers: c.modifiers("modifiers", q.GetModifiers()), NPI: q.GetNpi(), EncounterID: q.GetEncounterId(), Origin: c.origin(q.GetOrigin())}
}

func (c *checker) coverage(p *pb.Coverage) clinical.Coverage {
	c.known("", p)
	c.keyed("coverage", p.GetTin(), p.GetSourceId())
	c.patientOf("patient_id", p.GetPatientId())
	start := c.date("start_date", p.GetStartDate(), true)
	end := c.date("end_date", p.GetEndDate(), false)
	c.order("end_date", start, end, "start_date")
	c.text("payer_type", p.GetPayerType(), maxLabel)
	return clinical.Coverage{TIN: p.GetTin(), SourceID: p.GetSourceId(), PatientID: p.GetPatientId(), Start: start.Date, End: end, PayerType: p.GetPayerType(),
		Origin: c.origin(p.GetOrigin())}
}

func (c *checker) flag(p *pb.InstitutionalFlag) clinical.Flag {
	c.known("", p)
	c.keyed("institutionalFlag", p.GetTin(), p.GetSourceId())
	c.patientOf("patient_id", p.GetPatientId())
	kind := enum(c, "kind", "enum.required", "kind %d: must be hospice, long_term_institution or i_snp", wire.FlagKinds, p.GetKind())
	start := c.date("start_date", p.GetStartDate(), true)
	end := c.date("end_date", p.GetEndDate(), false)
	c.order("end_date", start, end, "start_date")
	return clinical.Flag{TIN: p.GetTin(), SourceID: p.GetSourceId(), PatientID: p.GetPatientId(), Kind: kind, Start: start.Date, End: end,
		Origin: c.origin(p.GetOrigin())}
}

// careCodeSystems are the systems a care event's code may be in: what EHRs
// record assessments, referrals and observations with.
var careCodeSystems = []clinical.System{clinical.SNOMEDCT, clinical.LOINC, clinical.CPT, clinical.HCPCS}

func (c *checker) careEvent(p *pb.CareEvent, zones Zones) clinical.CareEvent {
	c.known("", p)
	c.keyed("careEvent", p.GetTin(), p.GetSourceId())
	c.patientOf("patient_id", p.GetPatientId())
	c.npi("npi", p.GetNpi(), false)
	kind := enum(c, "kind", "enum.required", "kind %d: must be fls_assessment, fracture_risk_assessment, falls_assessment, falls_referral, "+
		"aom_recommended, aom_declined, aom_contraindicated, strength_balance_referral, strength_balance_start, monitoring_contact or residence",
		wire.CareKinds, p.GetKind())
	out := clinical.CareEvent{TIN: p.GetTin(), SourceID: p.GetSourceId(), PatientID: p.GetPatientId(), Kind: kind, NPI: p.GetNpi(),
		Service: p.GetService(), Reason: p.GetReason(), Display: p.GetDisplay(), Origin: c.origin(p.GetOrigin())}
	date, _ := c.when("date", p.GetDate(), true, zones)
	end, _ := c.when("end", p.GetEnd(), false, zones)
	c.order("end", date, end, "date")
	out.Date, out.End = date.Date, end
	out.Tool = enum(c, "tool", schema.RuleEnum, "tool %v is not supported", wire.RiskTools, p.GetTool())
	out.Residence = enum(c, "residence", schema.RuleEnum, "residence %v is not supported", wire.Residences, p.GetResidence())
	if p.Score != nil {
		if v := p.GetScore(); v >= 0 && v <= 100 { // false for NaN
			out.Score = clinical.NullFloat{Value: v, Valid: true}
		} else {
			c.fail("score", "score.range", "score must be a number from 0 to 100 (a 10-year probability in percent)")
		}
	}
	if p.OnTreatment != nil {
		out.OnTreatment = clinical.NullBool{Value: p.GetOnTreatment(), Valid: true}
	}
	// Fields that belong to some kinds only: sent on another, they would be
	// kept where nothing reads them.
	if kind != "" {
		c.forKinds(kind, "tool", p.GetTool() != pb.RiskTool_RISK_TOOL_UNSPECIFIED, clinical.CareFractureRisk)
		c.forKinds(kind, "score", p.Score != nil, clinical.CareFractureRisk)
		c.forKinds(kind, "on_treatment", p.OnTreatment != nil, clinical.CareMonitoringContact)
		c.forKinds(kind, "residence", p.GetResidence() != pb.Residence_RESIDENCE_UNSPECIFIED, clinical.CareResidence)
		c.forKinds(kind, "end", p.GetEnd() != "", clinical.CareResidence)
		c.forKinds(kind, "reason", p.GetReason() != "", clinical.CareAOMDeclined, clinical.CareAOMContraindicated)
	}
	if kind == clinical.CareResidence && p.GetResidence() == pb.Residence_RESIDENCE_UNSPECIFIED && !c.noted("residence") {
		c.fail("residence", "residence.required", "residence is required for a residence event: care_home, own_home or other")
	}
	c.text("service", p.GetService(), maxName)
	c.text("reason", p.GetReason(), maxOrigin)
	c.text("display", p.GetDisplay(), maxOrigin)
	if cd := p.GetCode(); cd != nil && (cd.GetCode() != "" || cd.GetSystem() != "") {
		out.Code = c.code("code", cd, careCodeSystems...)
	} else if cd != nil {
		c.known("code", cd)
	}
	return out
}

// forKinds refuses a field that is set (set) on a care event of a kind it
// does not apply to.
func (c *checker) forKinds(kind clinical.CareKind, field string, set bool, kinds ...clinical.CareKind) {
	if set && !slices.Contains(kinds, kind) {
		names := make([]string, len(kinds))
		for i, k := range kinds {
			names[i] = string(k)
		}
		c.fail(field, "field.not_for_kind", fmt.Sprintf("%s applies to %s events only, not to %s", field, strings.Join(names, " and "), kind))
	}
}

// enum maps an API enum value to its domain value. A number the enum does
// not define breaks enum.unknown, worded by the schema package as for every
// enum; a defined value the map lacks (a kind's UNSPECIFIED) breaks rule,
// worded by format. A field whose unknown name the gateway kept is already
// reported.
func enum[K interface {
	~int32
	protoreflect.Enum
}, V any](c *checker, field, rule, format string, m map[K]V, k K) V {
	v, ok := m[k]
	switch {
	case ok, c.noted(field):
	case k.Descriptor().Values().ByNumber(k.Number()) == nil:
		c.fail(field, schema.RuleEnum, schema.EnumMessage(field, strconv.Itoa(int(k)), k.Descriptor()))
	default:
		c.fail(field, rule, fmt.Sprintf(format, k))
	}
	return v
}

func joinSystems(list []clinical.System) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = string(s)
	}
	return strings.Join(parts, ", ")
}
