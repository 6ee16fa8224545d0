package source

import (
	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/wire"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// ClaimEncounter gives the encounter of a claim the setting that
// clinical.ClaimSetting derived from the claim's facts: its class and, for an
// inpatient stay, the admission date as start and the discharge date as end
// and discharge date (docs/csv-claims.md, docs/fhir-mapping.md). admission
// and discharge are the claim's own, as written ("" when it has none).
func ClaimEncounter(e *pb.Encounter, s clinical.Setting, admission, discharge string) {
	e.Class = wire.Class(s.Class)
	if s.Stay {
		e.Start, e.End, e.DischargeDate = s.StayDates(e.Start, e.End, admission, discharge)
	}
}
