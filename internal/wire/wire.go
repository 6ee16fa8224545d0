// Package wire maps domain records (internal/clinical) back to API records
// (liaison.v1) and holds the enum tables both directions share. ingest owns
// the other direction (API → domain, with every rule); reading stored data
// (internal/api) and generating data (internal/synth) use this one. It
// imports only the domain and the generated API, so anything can use it.
package wire

import (
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Sexes, Classes, MedicationKinds, FlagKinds, CareKinds, RiskTools and Residences map API enums to domain values.
var (
	Sexes = map[pb.Sex]clinical.Sex{
		pb.Sex_SEX_UNSPECIFIED: clinical.SexUndefined, pb.Sex_SEX_FEMALE: clinical.Female,
		pb.Sex_SEX_MALE: clinical.Male, pb.Sex_SEX_UNKNOWN: clinical.SexUnknown,
	}
	Classes = map[pb.EncounterClass]clinical.EncounterClass{
		pb.EncounterClass_ENCOUNTER_CLASS_UNSPECIFIED: "", pb.EncounterClass_ENCOUNTER_CLASS_AMBULATORY: clinical.Ambulatory,
		pb.EncounterClass_ENCOUNTER_CLASS_EMERGENCY: clinical.Emergency, pb.EncounterClass_ENCOUNTER_CLASS_INPATIENT: clinical.Inpatient,
		pb.EncounterClass_ENCOUNTER_CLASS_OBSERVATION: clinical.Observation, pb.EncounterClass_ENCOUNTER_CLASS_VIRTUAL: clinical.Virtual,
	}
	MedicationKinds = map[pb.MedicationKind]clinical.MedicationKind{
		pb.MedicationKind_MEDICATION_KIND_ORDER: clinical.MedOrder, pb.MedicationKind_MEDICATION_KIND_DISPENSE: clinical.MedDispense,
		pb.MedicationKind_MEDICATION_KIND_ADMINISTRATION: clinical.MedAdministration, pb.MedicationKind_MEDICATION_KIND_STATEMENT: clinical.MedStatement,
	}
	FlagKinds = map[pb.InstitutionalFlagKind]clinical.FlagKind{
		pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_HOSPICE:               clinical.FlagHospice,
		pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_LONG_TERM_INSTITUTION: clinical.FlagLongTermInstitution,
		pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_I_SNP:                 clinical.FlagISNP,
	}
	CareKinds = map[pb.CareEventKind]clinical.CareKind{
		pb.CareEventKind_CARE_EVENT_KIND_FLS_ASSESSMENT:            clinical.CareFLSAssessment,
		pb.CareEventKind_CARE_EVENT_KIND_FRACTURE_RISK_ASSESSMENT:  clinical.CareFractureRisk,
		pb.CareEventKind_CARE_EVENT_KIND_FALLS_ASSESSMENT:          clinical.CareFallsAssessment,
		pb.CareEventKind_CARE_EVENT_KIND_FALLS_REFERRAL:            clinical.CareFallsReferral,
		pb.CareEventKind_CARE_EVENT_KIND_AOM_RECOMMENDED:           clinical.CareAOMRecommended,
		pb.CareEventKind_CARE_EVENT_KIND_AOM_DECLINED:              clinical.CareAOMDeclined,
		pb.CareEventKind_CARE_EVENT_KIND_AOM_CONTRAINDICATED:       clinical.CareAOMContraindicated,
		pb.CareEventKind_CARE_EVENT_KIND_STRENGTH_BALANCE_REFERRAL: clinical.CareStrengthBalanceReferral,
		pb.CareEventKind_CARE_EVENT_KIND_STRENGTH_BALANCE_START:    clinical.CareStrengthBalanceStart,
		pb.CareEventKind_CARE_EVENT_KIND_MONITORING_CONTACT:        clinical.CareMonitoringContact,
		pb.CareEventKind_CARE_EVENT_KIND_RESIDENCE:                 clinical.CareResidence,
	}
	// RiskTools and Residences map UNSPECIFIED to "": not stated.
	RiskTools = map[pb.RiskTool]clinical.RiskTool{
		pb.RiskTool_RISK_TOOL_UNSPECIFIED: "", pb.RiskTool_RISK_TOOL_FRAX: clinical.ToolFRAX, pb.RiskTool_RISK_TOOL_QFRACTURE: clinical.ToolQFracture,
		pb.RiskTool_RISK_TOOL_GARVAN: clinical.ToolGarvan, pb.RiskTool_RISK_TOOL_OTHER: clinical.ToolOther,
	}
	Residences = map[pb.Residence]clinical.Residence{
		pb.Residence_RESIDENCE_UNSPECIFIED: "", pb.Residence_RESIDENCE_CARE_HOME: clinical.ResidenceCareHome,
		pb.Residence_RESIDENCE_OWN_HOME: clinical.ResidenceOwnHome, pb.Residence_RESIDENCE_OTHER: clinical.ResidenceOther,
	}
)

// reverse inverts one of the enum maps.
func reverse[K comparable, V comparable](m map[V]K) map[K]V {
	out := make(map[K]V, len(m))
	for v, k := range m {
		out[k] = v
	}
	return out
}

var (
	sexToProto     = reverse(Sexes)
	classToProto   = reverse(Classes)
	medKindToProto = reverse(MedicationKinds)
	flagToProto    = reverse(FlagKinds)
	careToProto    = reverse(CareKinds)
	toolToProto    = reverse(RiskTools)
	residenceTo    = reverse(Residences)
)

// Class maps an encounter class.
func Class(c clinical.EncounterClass) pb.EncounterClass { return classToProto[c] }

// Coding maps a code.
func Coding(c clinical.Code) *pb.Coding { return &pb.Coding{System: string(c.System), Code: c.Code} }

// when returns the instant as sent when there was one, else the date.
func when(d clinical.Date, at time.Time) string {
	if !at.IsZero() {
		return at.Format(time.RFC3339Nano)
	}
	return d.String()
}

func whenNull(d clinical.NullDate, at time.Time) string {
	if !d.Valid {
		return ""
	}
	return when(d.Date, at)
}

// Practice maps a practice.
func Practice(p clinical.Practice) *pb.Practice {
	return &pb.Practice{Tin: p.TIN, Name: p.Name, TimeZone: p.TimeZone}
}

// Clinician maps a clinician.
func Clinician(c clinical.Clinician) *pb.Clinician {
	return &pb.Clinician{Npi: c.NPI, Name: c.Name, Specialty: c.Specialty}
}

// Patient maps patient demographics.
func Patient(p clinical.Patient) *pb.Patient {
	return &pb.Patient{Tin: p.TIN, SourceId: p.SourceID, BirthDate: p.BirthPrec.Format(p.BirthDate), Sex: sexToProto[p.Sex],
		Race: p.Race, Ethnicity: p.Ethnicity, PayerType: p.PayerType, DeathDate: p.DeathDate.String(), Origin: p.Origin}
}

// Encounter maps an encounter, with its instants as sent when it had them.
func Encounter(e clinical.Encounter) *pb.Encounter {
	m := &pb.Encounter{Tin: e.TIN, SourceId: e.SourceID, PatientId: e.PatientID, RenderingNpi: e.RenderingNPI,
		Start: when(e.Start, e.StartAt), End: whenNull(e.End, e.EndAt), Class: classToProto[e.Class],
		PlaceOfService: e.POS, DischargeDate: e.Discharge.String(), Origin: e.Origin}
	for _, l := range e.Lines {
		m.Lines = append(m.Lines, &pb.ProcedureLine{Code: Coding(l.Code), Modifiers: l.Modifiers})
	}
	for _, dx := range e.Diagnoses {
		m.Diagnoses = append(m.Diagnoses, Coding(dx))
	}
	return m
}

// Procedure maps a procedure.
func Procedure(p clinical.Procedure) *pb.Procedure {
	return &pb.Procedure{Tin: p.TIN, SourceId: p.SourceID, PatientId: p.PatientID,
		Code: Coding(p.Code), Date: p.Date.String(), Npi: p.NPI, EncounterId: p.EncounterID, NotDone: p.NotDone, Origin: p.Origin}
}

// Condition maps a condition.
func Condition(c clinical.Condition) *pb.Condition {
	return &pb.Condition{Tin: c.TIN, SourceId: c.SourceID, PatientId: c.PatientID,
		Code: Coding(c.Code), OnsetDate: c.Onset.String(), EncounterId: c.EncounterID, Origin: c.Origin}
}

// Medication maps a medication event.
func Medication(m clinical.MedicationEvent) *pb.MedicationEvent {
	return &pb.MedicationEvent{Tin: m.TIN, SourceId: m.SourceID, PatientId: m.PatientID,
		Kind: medKindToProto[m.Kind], Code: Coding(m.Code), Date: m.Date.String(), DaysSupply: m.DaysSupply, Quantity: m.Quantity, Npi: m.NPI,
		Display: m.Display, Origin: m.Origin}
}

// Quality maps a quality-data code.
func Quality(q clinical.QualityCode) *pb.QualityCode {
	return &pb.QualityCode{Tin: q.TIN, SourceId: q.SourceID, PatientId: q.PatientID,
		Code: Coding(q.Code), Modifiers: q.Modifiers, Date: q.Date.String(), Npi: q.NPI, EncounterId: q.EncounterID, Origin: q.Origin}
}

// Coverage maps an enrollment span.
func Coverage(c clinical.Coverage) *pb.Coverage {
	return &pb.Coverage{Tin: c.TIN, SourceId: c.SourceID, PatientId: c.PatientID,
		StartDate: c.Start.String(), EndDate: c.End.String(), PayerType: c.PayerType, Origin: c.Origin}
}

// Flag maps an institutional flag.
func Flag(f clinical.Flag) *pb.InstitutionalFlag {
	return &pb.InstitutionalFlag{Tin: f.TIN, SourceId: f.SourceID, PatientId: f.PatientID,
		Kind: flagToProto[f.Kind], StartDate: f.Start.String(), EndDate: f.End.String(), Origin: f.Origin}
}

// CareEvent maps a care event; a zero code is left out.
func CareEvent(e clinical.CareEvent) *pb.CareEvent {
	m := &pb.CareEvent{Tin: e.TIN, SourceId: e.SourceID, PatientId: e.PatientID, Kind: careToProto[e.Kind], Date: e.Date.String(),
		End: e.End.String(), Npi: e.NPI, Service: e.Service, Tool: toolToProto[e.Tool], Residence: residenceTo[e.Residence],
		Reason: e.Reason, Display: e.Display, Origin: e.Origin}
	if e.Score.Valid {
		m.Score = &e.Score.Value
	}
	if e.OnTreatment.Valid {
		m.OnTreatment = &e.OnTreatment.Value
	}
	if e.Code.Code != "" {
		m.Code = Coding(e.Code)
	}
	return m
}

// Record wraps one domain record (a value of any clinical record type) as
// an API record; nil for anything else.
func Record(v any) *pb.Record {
	switch v := v.(type) {
	case clinical.Practice:
		return &pb.Record{Kind: &pb.Record_Practice{Practice: Practice(v)}}
	case clinical.Clinician:
		return &pb.Record{Kind: &pb.Record_Clinician{Clinician: Clinician(v)}}
	case clinical.Patient:
		return &pb.Record{Kind: &pb.Record_Patient{Patient: Patient(v)}}
	case clinical.Encounter:
		return &pb.Record{Kind: &pb.Record_Encounter{Encounter: Encounter(v)}}
	case clinical.Procedure:
		return &pb.Record{Kind: &pb.Record_Procedure{Procedure: Procedure(v)}}
	case clinical.Condition:
		return &pb.Record{Kind: &pb.Record_Condition{Condition: Condition(v)}}
	case clinical.MedicationEvent:
		return &pb.Record{Kind: &pb.Record_Medication{Medication: Medication(v)}}
	case clinical.QualityCode:
		return &pb.Record{Kind: &pb.Record_QualityCode{QualityCode: Quality(v)}}
	case clinical.Coverage:
		return &pb.Record{Kind: &pb.Record_Coverage{Coverage: Coverage(v)}}
	case clinical.Flag:
		return &pb.Record{Kind: &pb.Record_InstitutionalFlag{InstitutionalFlag: Flag(v)}}
	case clinical.CareEvent:
		return &pb.Record{Kind: &pb.Record_CareEvent{CareEvent: CareEvent(v)}}
	}
	return nil
}

// Records maps everything known about one patient to API records, the
// patient first (as an export sends it, so references resolve in order),
// then encounters before the records that may point at them.
func Records(d *clinical.PatientData) []*pb.Record {
	out := make([]*pb.Record, 0, 1+len(d.Encounters)+len(d.Procedures)+len(d.Conditions)+len(d.Medications)+len(d.Quality)+len(d.Coverage)+len(d.Flags)+len(d.CareEvents))
	out = append(out, Record(d.Patient))
	out = each(out, d.Coverage)
	out = each(out, d.Encounters)
	out = each(out, d.Procedures)
	out = each(out, d.Conditions)
	out = each(out, d.Medications)
	out = each(out, d.Quality)
	out = each(out, d.Flags)
	return each(out, d.CareEvents)
}

// each appends every x as an API record.
func each[T any](out []*pb.Record, xs []T) []*pb.Record {
	for _, x := range xs {
		out = append(out, Record(x))
	}
	return out
}
