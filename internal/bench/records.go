// Package bench holds Liaison's end-to-end benchmarks, run by `make bench`
// through `liaison bench`. Each prints one BENCH line.
package bench

import (
	"fmt"
	"math/rand/v2"

	"github.com/liaison-registry/liaison/internal/clinical"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// RecordsPerPatient is the size of the benchmark's per-patient record mix.
const RecordsPerPatient = 20

var (
	fractureDx = []string{"S72.001A", "S72.141A", "S52.501A", "S32.010A", "S42.201A", "S82.201A", "S22.000A", "M80.08XA", "S62.600A", "S92.401A"}
	otherDx    = []string{"M81.0", "E11.9", "I10", "Z79.899", "M19.90", "N18.3"}
	visitCPT   = []string{"99213", "99214", "99203", "99284", "99285", "27245", "25605"}
	medCodes   = []*pb.Coding{{System: "RXNORM", Code: "904419"}, {System: "NDC", Code: "00006003154"}, {System: "HCPCS", Code: "J3489"}, {System: "RXNORM", Code: "1000490"}}
	qdcCodes   = []*pb.Coding{{System: "CPT", Code: "3095F"}, {System: "HCPCS", Code: "G8633"}, {System: "HCPCS", Code: "G8635"}, {System: "HCPCS", Code: "G9768"}}
)

// Mix generates a reproducible realistic record mix: `practices` TINs with
// 10 clinicians each, then patients of 20 records each (encounters with
// lines and diagnoses, procedures, conditions, medications, quality-data
// codes, coverage, some institutional flags), in messages of batch records.
// Reference data (practices, clinicians) comes first, as an export would.
func Mix(patients, practices, batch int, seed uint64) (msgs [][]*pb.Record, total int) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	tins := make([]string, practices)
	var head []*pb.Record
	npis := make([][]string, practices)
	for i := range tins {
		tins[i] = fmt.Sprintf("%09d", 100000000+i*7919)
		head = append(head, &pb.Record{Kind: &pb.Record_Practice{Practice: &pb.Practice{Tin: tins[i], Name: fmt.Sprintf("Practice %d", i+1), TimeZone: "America/New_York"}}})
		for j := 0; j < 10; j++ {
			payload := fmt.Sprintf("1%08d", i*10+j+1)
			npi := payload + string(clinical.NPICheckDigit(payload))
			npis[i] = append(npis[i], npi)
			head = append(head, &pb.Record{Kind: &pb.Record_Clinician{Clinician: &pb.Clinician{Npi: npi, Name: "Clinician " + npi}}})
		}
	}
	cur := head
	flush := func() {
		msgs = append(msgs, cur)
		total += len(cur)
		cur = make([]*pb.Record, 0, batch)
	}
	day := func(base clinical.Date, spread int) string { return base.AddDays(rng.IntN(spread)).String() }
	start := clinical.NewDate(2023, 7, 1)
	for p := 0; p < patients; p++ {
		ti := rng.IntN(practices)
		tin, id := tins[ti], fmt.Sprintf("P%07d", p)
		npi := npis[ti][rng.IntN(10)]
		sex := pb.Sex_SEX_FEMALE
		if rng.IntN(4) == 0 {
			sex = pb.Sex_SEX_MALE
		}
		recs := []*pb.Record{{Kind: &pb.Record_Patient{Patient: &pb.Patient{Tin: tin, SourceId: id,
			BirthDate: day(clinical.NewDate(1930, 1, 1), 365*50), Sex: sex, Race: []string{"2106-3"}, Ethnicity: "2186-5", PayerType: "medicare"}}}}
		for e := 0; e < 5; e++ {
			dx := []*pb.Coding{{System: "ICD10CM", Code: otherDx[rng.IntN(len(otherDx))]}}
			if e == 0 {
				dx = append([]*pb.Coding{{System: "ICD10CM", Code: fractureDx[rng.IntN(len(fractureDx))]}}, dx...)
			}
			recs = append(recs, &pb.Record{Kind: &pb.Record_Encounter{Encounter: &pb.Encounter{Tin: tin, SourceId: fmt.Sprintf("%s-E%d", id, e), PatientId: id,
				RenderingNpi: npi, Start: day(start, 540), Class: pb.EncounterClass_ENCOUNTER_CLASS_AMBULATORY, PlaceOfService: "11",
				Lines: []*pb.ProcedureLine{{Code: &pb.Coding{System: "CPT", Code: visitCPT[rng.IntN(len(visitCPT))]}}}, Diagnoses: dx}}})
		}
		for k := 0; k < 2; k++ {
			recs = append(recs, &pb.Record{Kind: &pb.Record_Procedure{Procedure: &pb.Procedure{Tin: tin, SourceId: fmt.Sprintf("%s-P%d", id, k), PatientId: id,
				Code: &pb.Coding{System: "CPT", Code: "77080"}, Date: day(start, 540), Npi: npi}}})
			recs = append(recs, &pb.Record{Kind: &pb.Record_Condition{Condition: &pb.Condition{Tin: tin, SourceId: fmt.Sprintf("%s-C%d", id, k), PatientId: id,
				Code: &pb.Coding{System: "ICD10CM", Code: otherDx[rng.IntN(len(otherDx))]}, OnsetDate: day(start, 540)}}})
		}
		for k := 0; k < 4; k++ {
			recs = append(recs, &pb.Record{Kind: &pb.Record_Medication{Medication: &pb.MedicationEvent{Tin: tin, SourceId: fmt.Sprintf("%s-M%d", id, k), PatientId: id,
				Kind: pb.MedicationKind(1 + rng.IntN(3)), Code: medCodes[rng.IntN(len(medCodes))], Date: day(start, 540), DaysSupply: 30, Quantity: 4, Npi: npi}}})
		}
		qdcs := 5
		if rng.IntN(10) == 0 {
			qdcs = 4
			recs = append(recs, &pb.Record{Kind: &pb.Record_InstitutionalFlag{InstitutionalFlag: &pb.InstitutionalFlag{Tin: tin, SourceId: id + "-F", PatientId: id,
				Kind: pb.InstitutionalFlagKind_INSTITUTIONAL_FLAG_KIND_HOSPICE, StartDate: day(start, 540)}}})
		}
		for k := 0; k < qdcs; k++ {
			q := &pb.QualityCode{Tin: tin, SourceId: fmt.Sprintf("%s-Q%d", id, k), PatientId: id, Code: qdcCodes[rng.IntN(len(qdcCodes))], Date: day(start, 540), Npi: npi}
			if q.Code.Code == "3095F" && rng.IntN(3) == 0 {
				q.Modifiers = []string{"8P"}
			}
			recs = append(recs, &pb.Record{Kind: &pb.Record_QualityCode{QualityCode: q}})
		}
		recs = append(recs, &pb.Record{Kind: &pb.Record_Coverage{Coverage: &pb.Coverage{Tin: tin, SourceId: id + "-COV", PatientId: id, StartDate: "2015-01-01", PayerType: "medicare"}}})
		if len(cur)+len(recs) > batch {
			flush()
		}
		cur = append(cur, recs...)
	}
	if len(cur) > 0 {
		flush()
	}
	return msgs, total
}
