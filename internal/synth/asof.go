package synth

import (
	"slices"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// asOf drops what a practice could not hold on day: records dated after it,
// codes of visits not yet made, ends and discharges still to come, a death
// not yet happened.
func asOf(d *clinical.PatientData, day clinical.Date) {
	future := func(x clinical.Date) bool { return x > day }
	open := func(n *clinical.NullDate) {
		if n.Valid && future(n.Date) {
			*n = clinical.NullDate{}
		}
	}
	later := map[string]bool{}
	d.Encounters = slices.DeleteFunc(d.Encounters, func(e clinical.Encounter) bool {
		later[e.SourceID] = future(e.Start)
		return later[e.SourceID]
	})
	for i := range d.Encounters {
		open(&d.Encounters[i].End)
		open(&d.Encounters[i].Discharge)
	}
	d.Procedures = slices.DeleteFunc(d.Procedures, func(p clinical.Procedure) bool { return future(p.Date) || later[p.EncounterID] })
	d.Medications = slices.DeleteFunc(d.Medications, func(m clinical.MedicationEvent) bool { return future(m.Date) })
	d.Quality = slices.DeleteFunc(d.Quality, func(q clinical.QualityCode) bool { return future(q.Date) || later[q.EncounterID] })
	d.Conditions = slices.DeleteFunc(d.Conditions, func(c clinical.Condition) bool { return future(c.Onset) })
	d.Coverage = slices.DeleteFunc(d.Coverage, func(c clinical.Coverage) bool { return future(c.Start) })
	d.Flags = slices.DeleteFunc(d.Flags, func(f clinical.Flag) bool { return future(f.Start) })
	for i := range d.Flags {
		open(&d.Flags[i].End)
	}
	d.CareEvents = slices.DeleteFunc(d.CareEvents, func(e clinical.CareEvent) bool { return future(e.Date) })
	for i := range d.CareEvents {
		open(&d.CareEvents[i].End)
	}
	open(&d.Patient.DeathDate)
}
