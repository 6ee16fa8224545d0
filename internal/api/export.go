package api

import (
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/ingest"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Domain records back to API messages, for reading stored data.

func coding(c clinical.Code) *pb.Coding { return &pb.Coding{System: string(c.System), Code: c.Code} }

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

// reverse inverts one of the ingest enum maps.
func reverse[K comparable, V comparable](m map[V]K) map[K]V {
	out := make(map[K]V, len(m))
	for v, k := range m {
		out[k] = v
	}
	return out
}

// The inverse of the ingest enum maps.
var (
	sexToProto     = reverse(ingest.Sexes)
	classToProto   = reverse(ingest.Classes)
	medKindToProto = reverse(ingest.MedicationKinds)
	flagToProto    = reverse(ingest.FlagKinds)
)

func patientMsg(p clinical.Patient) *pb.Patient {
	return &pb.Patient{Tin: p.TIN, SourceId: p.SourceID, BirthDate: p.BirthDate.String(), Sex: sexToProto[p.Sex],
		Race: p.Race, Ethnicity: p.Ethnicity, PayerType: p.PayerType, DeathDate: p.DeathDate.String()}
}

func patientToProto(d *clinical.PatientData) *pb.GetPatientResponse {
	out := &pb.GetPatientResponse{Patient: patientMsg(d.Patient)}
	for _, e := range d.Encounters {
		m := &pb.Encounter{Tin: e.TIN, SourceId: e.SourceID, PatientId: e.PatientID, RenderingNpi: e.RenderingNPI,
			Start: when(e.Start, e.StartAt), End: whenNull(e.End, e.EndAt), Class: classToProto[e.Class],
			PlaceOfService: e.POS, DischargeDate: e.Discharge.String()}
		for _, l := range e.Lines {
			m.Lines = append(m.Lines, &pb.ProcedureLine{Code: coding(l.Code), Modifiers: l.Modifiers})
		}
		for _, dx := range e.Diagnoses {
			m.Diagnoses = append(m.Diagnoses, coding(dx))
		}
		out.Encounters = append(out.Encounters, m)
	}
	for _, p := range d.Procedures {
		out.Procedures = append(out.Procedures, &pb.Procedure{Tin: p.TIN, SourceId: p.SourceID, PatientId: p.PatientID,
			Code: coding(p.Code), Date: p.Date.String(), Npi: p.NPI, EncounterId: p.EncounterID, NotDone: p.NotDone})
	}
	for _, c := range d.Conditions {
		out.Conditions = append(out.Conditions, &pb.Condition{Tin: c.TIN, SourceId: c.SourceID, PatientId: c.PatientID,
			Code: coding(c.Code), OnsetDate: c.Onset.String(), EncounterId: c.EncounterID})
	}
	for _, m := range d.Medications {
		out.Medications = append(out.Medications, &pb.MedicationEvent{Tin: m.TIN, SourceId: m.SourceID, PatientId: m.PatientID,
			Kind: medKindToProto[m.Kind], Code: coding(m.Code), Date: m.Date.String(), DaysSupply: m.DaysSupply, Quantity: m.Quantity, Npi: m.NPI})
	}
	for _, q := range d.Quality {
		out.QualityCodes = append(out.QualityCodes, &pb.QualityCode{Tin: q.TIN, SourceId: q.SourceID, PatientId: q.PatientID,
			Code: coding(q.Code), Modifiers: q.Modifiers, Date: q.Date.String(), Npi: q.NPI, EncounterId: q.EncounterID})
	}
	for _, c := range d.Coverage {
		out.Coverage = append(out.Coverage, &pb.Coverage{Tin: c.TIN, SourceId: c.SourceID, PatientId: c.PatientID,
			StartDate: c.Start.String(), EndDate: c.End.String(), PayerType: c.PayerType})
	}
	for _, f := range d.Flags {
		out.InstitutionalFlags = append(out.InstitutionalFlags, &pb.InstitutionalFlag{Tin: f.TIN, SourceId: f.SourceID, PatientId: f.PatientID,
			Kind: flagToProto[f.Kind], StartDate: f.Start.String(), EndDate: f.End.String()})
	}
	return out
}
