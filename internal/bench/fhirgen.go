package bench

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// fhirSystems are the FHIR URIs of the systems the record mix uses.
var fhirSystems = map[string]string{
	"ICD10CM": "http://hl7.org/fhir/sid/icd-10-cm", "CPT": "http://www.ama-assn.org/go/cpt",
	"HCPCS": "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "RXNORM": "http://www.nlm.nih.gov/research/umls/rxnorm",
	"NDC": "http://hl7.org/fhir/sid/ndc",
}

// WriteFHIR writes a bulk-data-style FHIR export (one NDJSON file per
// resource type) of the reproducible record mix into dir, with about
// `resources` resources. Each record becomes the resource a practice's
// export would carry it in: practices as Organizations, clinicians as
// Practitioners, encounter diagnoses as Conditions that reference the
// encounter (so the reader resolves references across files), quality-data
// codes as Claims. Institutional flags have no FHIR form here and are left
// out. It returns the number of resources written.
func WriteFHIR(dir string, resources int) (int, error) {
	// A patient of the mix becomes about 26 resources.
	msgs, _ := Mix(max(resources/26, 1), 20, 5000, 1)
	w := &fhirWriter{dir: dir, files: map[string]*bufio.Writer{}}
	for _, msg := range msgs {
		for _, rec := range msg {
			w.record(rec)
		}
	}
	return w.n, w.close()
}

type fhirWriter struct {
	dir     string
	files   map[string]*bufio.Writer
	closers []func() error
	n       int
	err     error
}

func (w *fhirWriter) write(typ, format string, args ...any) {
	if w.err != nil {
		return
	}
	b := w.files[typ]
	if b == nil {
		f, err := os.Create(filepath.Join(w.dir, typ+".ndjson"))
		if err != nil {
			w.err = err
			return
		}
		b = bufio.NewWriterSize(f, 1<<20)
		w.files[typ] = b
		w.closers = append(w.closers, func() error {
			if err := b.Flush(); err != nil {
				return err
			}
			return f.Close()
		})
	}
	fmt.Fprintf(b, format+"\n", args...)
	w.n++
}

func (w *fhirWriter) close() error {
	for _, c := range w.closers {
		if err := c(); err != nil && w.err == nil {
			w.err = err
		}
	}
	return w.err
}

func coding(c *pb.Coding) string {
	return fmt.Sprintf(`{"coding":[{"system":%q,"code":%q}]}`, fhirSystems[c.System], c.Code)
}

var (
	fhirGender = map[pb.Sex]string{pb.Sex_SEX_FEMALE: "female", pb.Sex_SEX_MALE: "male", pb.Sex_SEX_UNKNOWN: "unknown"}
	fhirMed    = map[pb.MedicationKind]string{pb.MedicationKind_MEDICATION_KIND_ORDER: "MedicationRequest",
		pb.MedicationKind_MEDICATION_KIND_DISPENSE: "MedicationDispense", pb.MedicationKind_MEDICATION_KIND_ADMINISTRATION: "MedicationAdministration"}
)

func (w *fhirWriter) record(rec *pb.Record) {
	switch k := rec.GetKind().(type) {
	case *pb.Record_Practice:
		p := k.Practice
		w.write("Organization", `{"resourceType":"Organization","id":%q,"identifier":[{"system":"urn:oid:2.16.840.1.113883.4.4","value":%q}],"name":%q}`, p.Tin, p.Tin, p.Name)
	case *pb.Record_Clinician:
		c := k.Clinician
		w.write("Practitioner", `{"resourceType":"Practitioner","id":%q,"identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":%q}],"name":[{"text":%q}]}`, c.Npi, c.Npi, c.Name)
	case *pb.Record_Patient:
		p := k.Patient
		w.write("Patient", `{"resourceType":"Patient","id":%q,"meta":{"profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]},`+
			`"extension":[{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-race","extension":[{"url":"ombCategory","valueCoding":{"system":"urn:oid:2.16.840.1.113883.6.238","code":%q}}]},`+
			`{"url":"http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity","extension":[{"url":"ombCategory","valueCoding":{"system":"urn:oid:2.16.840.1.113883.6.238","code":%q}}]}],`+
			`"identifier":[{"system":"http://hospital.example.org/mrn","value":%q}],"gender":%q,"birthDate":%q,"managingOrganization":{"reference":"Organization/%s"}}`,
			p.SourceId, p.Race[0], p.Ethnicity, p.SourceId, fhirGender[p.Sex], p.BirthDate, p.Tin)
	case *pb.Record_Encounter:
		e := k.Encounter
		w.write("Encounter", `{"resourceType":"Encounter","id":%q,"status":"finished","class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB"},`+
			`"type":[%s],"subject":{"reference":"Patient/%s"},"participant":[{"type":[{"coding":[{"code":"PPRF"}]}],"individual":{"reference":"Practitioner/%s"}}],`+
			`"period":{"start":"%sT09:00:00-05:00","end":"%sT09:30:00-05:00"},"serviceProvider":{"reference":"Organization/%s"}}`,
			e.SourceId, coding(e.Lines[0].Code), e.PatientId, e.RenderingNpi, e.Start, e.Start, e.Tin)
		for i, d := range e.Diagnoses {
			w.write("Condition", `{"resourceType":"Condition","id":"%s-dx%d","category":[{"coding":[{"code":"encounter-diagnosis"}]}],"code":%s,"subject":{"reference":"Patient/%s"},"encounter":{"reference":"Encounter/%s"},"onsetDateTime":%q}`,
				e.SourceId, i, coding(d), e.PatientId, e.SourceId, e.Start)
		}
	case *pb.Record_Procedure:
		p := k.Procedure
		w.write("Procedure", `{"resourceType":"Procedure","id":%q,"status":"completed","code":%s,"subject":{"reference":"Patient/%s"},"performedDateTime":%q,"performer":[{"actor":{"reference":"Practitioner/%s"}}]}`,
			p.SourceId, coding(p.Code), p.PatientId, p.Date, p.Npi)
	case *pb.Record_Condition:
		c := k.Condition
		w.write("Condition", `{"resourceType":"Condition","id":%q,"category":[{"coding":[{"code":"problem-list-item"}]}],"code":%s,"subject":{"reference":"Patient/%s"},"onsetDateTime":%q}`,
			c.SourceId, coding(c.Code), c.PatientId, c.OnsetDate)
	case *pb.Record_Medication:
		m := k.Medication
		typ := fhirMed[m.Kind]
		var when string
		switch m.Kind {
		case pb.MedicationKind_MEDICATION_KIND_ORDER:
			when = fmt.Sprintf(`"authoredOn":%q,"requester":{"reference":"Practitioner/%s"},"dispenseRequest":{"quantity":{"value":%g},"expectedSupplyDuration":{"value":%d,"code":"d"}}`, m.Date, m.Npi, m.Quantity, m.DaysSupply)
		case pb.MedicationKind_MEDICATION_KIND_DISPENSE:
			when = fmt.Sprintf(`"whenHandedOver":%q,"daysSupply":{"value":%d,"code":"d"},"quantity":{"value":%g},"performer":[{"actor":{"reference":"Practitioner/%s"}}]`, m.Date, m.DaysSupply, m.Quantity, m.Npi)
		default:
			when = fmt.Sprintf(`"effectiveDateTime":%q,"performer":[{"actor":{"reference":"Practitioner/%s"}}]`, m.Date, m.Npi)
		}
		w.write(typ, `{"resourceType":%q,"id":%q,"status":"completed","medicationCodeableConcept":%s,"subject":{"reference":"Patient/%s"},%s}`,
			typ, m.SourceId, coding(m.Code), m.PatientId, when)
	case *pb.Record_QualityCode:
		q := k.QualityCode
		var mods string
		if len(q.Modifiers) > 0 {
			mods = fmt.Sprintf(`,"modifier":[{"coding":[{"code":%q}]}]`, strings.Join(q.Modifiers, ""))
		}
		w.write("Claim", `{"resourceType":"Claim","id":%q,"status":"active","use":"claim","patient":{"reference":"Patient/%s"},"billablePeriod":{"start":%q},`+
			`"provider":{"reference":"Organization/%s"},"careTeam":[{"sequence":1,"provider":{"reference":"Practitioner/%s"}}],`+
			`"item":[{"sequence":1,"careTeamSequence":[1],"productOrService":%s%s,"servicedDate":%q}]}`,
			q.SourceId, q.PatientId, q.Date, q.Tin, q.Npi, coding(q.Code), mods, q.Date)
	case *pb.Record_Coverage:
		c := k.Coverage
		w.write("Coverage", `{"resourceType":"Coverage","id":%q,"status":"active","type":{"coding":[{"system":"https://nahdo.org/sopt","code":"1"}]},"beneficiary":{"reference":"Patient/%s"},"period":{"start":%q}}`,
			c.SourceId, c.PatientId, c.StartDate)
	}
}
