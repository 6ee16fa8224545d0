package api

import (
	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/wire"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// Domain records back to API messages, for reading stored data: the
// per-record mapping lives in internal/wire.

func patientMsg(p clinical.Patient) *pb.Patient { return wire.Patient(p) }

func patientToProto(d *clinical.PatientData) *pb.GetPatientResponse {
	out := &pb.GetPatientResponse{Patient: wire.Patient(d.Patient)}
	for _, e := range d.Encounters {
		out.Encounters = append(out.Encounters, wire.Encounter(e))
	}
	for _, p := range d.Procedures {
		out.Procedures = append(out.Procedures, wire.Procedure(p))
	}
	for _, c := range d.Conditions {
		out.Conditions = append(out.Conditions, wire.Condition(c))
	}
	for _, m := range d.Medications {
		out.Medications = append(out.Medications, wire.Medication(m))
	}
	for _, q := range d.Quality {
		out.QualityCodes = append(out.QualityCodes, wire.Quality(q))
	}
	for _, c := range d.Coverage {
		out.Coverage = append(out.Coverage, wire.Coverage(c))
	}
	for _, f := range d.Flags {
		out.InstitutionalFlags = append(out.InstitutionalFlags, wire.Flag(f))
	}
	for _, e := range d.CareEvents {
		out.CareEvents = append(out.CareEvents, wire.CareEvent(e))
	}
	return out
}
