package ndjson

import (
	"fmt"
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// The wire shapes. Dates are strings: a calendar date (YYYY-MM-DD) or an
// RFC 3339 datetime, reduced to a date in the practice's time zone.

type codeRec struct {
	System string `json:"system"`
	Code   string `json:"code"`
}

type patientRec struct {
	Type      string   `json:"type"`
	TIN       string   `json:"tin"`
	SourceID  string   `json:"sourceId"`
	BirthDate string   `json:"birthDate"`
	Sex       string   `json:"sex"`
	Race      []string `json:"race"`
	Ethnicity string   `json:"ethnicity"`
	PayerType string   `json:"payerType"`
	DeathDate string   `json:"deathDate"`
}

type lineRec struct {
	Code      codeRec  `json:"code"`
	Modifiers []string `json:"modifiers"`
}

type encounterRec struct {
	Type         string    `json:"type"`
	TIN          string    `json:"tin"`
	SourceID     string    `json:"sourceId"`
	PatientID    string    `json:"patientId"`
	RenderingNPI string    `json:"renderingNpi"`
	Start        string    `json:"start"`
	End          string    `json:"end"`
	Class        string    `json:"class"`
	POS          string    `json:"pos"`
	Lines        []lineRec `json:"lines"`
	Diagnoses    []codeRec `json:"diagnoses"`
	Discharge    string    `json:"discharge"`
}

type procedureRec struct {
	Type        string  `json:"type"`
	TIN         string  `json:"tin"`
	SourceID    string  `json:"sourceId"`
	PatientID   string  `json:"patientId"`
	Code        codeRec `json:"code"`
	Date        string  `json:"date"`
	NPI         string  `json:"npi"`
	EncounterID string  `json:"encounterId"`
	NotDone     bool    `json:"notDone"`
}

type conditionRec struct {
	Type        string  `json:"type"`
	TIN         string  `json:"tin"`
	SourceID    string  `json:"sourceId"`
	PatientID   string  `json:"patientId"`
	Code        codeRec `json:"code"`
	Onset       string  `json:"onset"`
	EncounterID string  `json:"encounterId"`
}

type medicationRec struct {
	Type       string  `json:"type"`
	TIN        string  `json:"tin"`
	SourceID   string  `json:"sourceId"`
	PatientID  string  `json:"patientId"`
	Kind       string  `json:"kind"`
	Code       codeRec `json:"code"`
	Date       string  `json:"date"`
	DaysSupply int32   `json:"daysSupply"`
	Quantity   float64 `json:"quantity"`
	NPI        string  `json:"npi"`
}

type qualityRec struct {
	Type        string   `json:"type"`
	TIN         string   `json:"tin"`
	SourceID    string   `json:"sourceId"`
	PatientID   string   `json:"patientId"`
	Code        codeRec  `json:"code"`
	Modifiers   []string `json:"modifiers"`
	Date        string   `json:"date"`
	NPI         string   `json:"npi"`
	EncounterID string   `json:"encounterId"`
}

type coverageRec struct {
	Type      string `json:"type"`
	TIN       string `json:"tin"`
	SourceID  string `json:"sourceId"`
	PatientID string `json:"patientId"`
	Start     string `json:"start"`
	End       string `json:"end"`
	PayerType string `json:"payerType"`
}

type flagRec struct {
	Type      string `json:"type"`
	TIN       string `json:"tin"`
	SourceID  string `json:"sourceId"`
	PatientID string `json:"patientId"`
	Kind      string `json:"kind"`
	Start     string `json:"start"`
	End       string `json:"end"`
}

type practiceRec struct {
	Type     string `json:"type"`
	TIN      string `json:"tin"`
	Name     string `json:"name"`
	TimeZone string `json:"timeZone"`
}

type clinicianRec struct {
	Type      string `json:"type"`
	NPI       string `json:"npi"`
	Name      string `json:"name"`
	Specialty string `json:"specialty"`
}

// check validates the fields of one record, collecting problems.
type check struct {
	d      *Dataset
	file   string
	line   int
	record string
	loc    *time.Location
	bad    bool
}

func (c *check) fail(field, format string, a ...any) {
	c.bad = true
	c.d.problem(c.file, c.line, c.record, field, fmt.Sprintf(format, a...))
}

func (c *check) required(field, v string) {
	if v == "" {
		c.fail(field, "required")
	}
}

func (c *check) tin(v string) {
	if !clinical.ValidTIN(v) {
		c.fail("tin", "%q is not a 9-digit TIN", v)
	}
}

func (c *check) npi(field, v string, required bool) {
	if v == "" {
		if required {
			c.fail(field, "required")
		}
		return
	}
	if !clinical.ValidNPI(v) {
		c.fail(field, "%q is not a valid NPI (10 digits with a Luhn check digit)", v)
	}
}

func (c *check) date(field, v string, required bool) (clinical.Date, time.Time, bool) {
	if v == "" {
		if required {
			c.fail(field, "required")
		}
		return 0, time.Time{}, false
	}
	dt, at, err := clinical.ParseDateOrTime(v, c.loc)
	if err != nil {
		c.fail(field, "%v", err)
		return 0, time.Time{}, false
	}
	return dt, at, true
}

func (c *check) nullDate(field, v string) clinical.NullDate {
	if dt, _, ok := c.date(field, v, false); ok {
		return clinical.Some(dt)
	}
	return clinical.NullDate{}
}

func (c *check) code(field string, v codeRec) clinical.Code {
	sys, err := clinical.ParseSystem(v.System)
	if err != nil {
		c.fail(field+".system", "%v", err)
		return clinical.Code{}
	}
	code, err := clinical.NormalizeCode(sys, v.Code)
	if err != nil {
		c.fail(field+".code", "%v", err)
		return clinical.Code{}
	}
	return clinical.Code{System: sys, Code: code}
}

func (c *check) modifiers(field string, in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, 0, len(in))
	for i, m := range in {
		n, err := clinical.NormalizeModifier(m)
		if err != nil {
			c.fail(fmt.Sprintf("%s[%d]", field, i), "%v", err)
			continue
		}
		out = append(out, n)
	}
	return out
}

func (d *Dataset) checker(pd pending, tin, record string) *check {
	loc := d.loc
	if l, ok := d.tz[tin]; ok {
		loc = l
	}
	return &check{d: d, file: pd.file, line: pd.line, record: record, loc: loc}
}

// unique rejects a second record of the same type with the same key.
func (c *check) unique(kind, tin, id string) {
	key := kind + "|" + tin + "|" + id
	if first, dup := c.d.seen[key]; dup {
		c.fail("sourceId", "duplicate %s %q in TIN %s (first on line %d)", kind, id, tin, first)
		return
	}
	c.d.seen[key] = c.line
}

func (d *Dataset) addPatient(pd pending, r *patientRec) {
	c := d.checker(pd, r.TIN, r.SourceID)
	c.tin(r.TIN)
	c.required("sourceId", r.SourceID)
	birth, _, _ := c.date("birthDate", r.BirthDate, true)
	sex := clinical.Sex(r.Sex)
	switch sex {
	case clinical.Female, clinical.Male, clinical.SexUnknown, clinical.SexUndefined:
	default:
		c.fail("sex", "%q: want F, M or U", r.Sex)
	}
	death := c.nullDate("deathDate", r.DeathDate)
	c.unique("patient", r.TIN, r.SourceID)
	if c.bad {
		return
	}
	d.byKey[patientKey{r.TIN, r.SourceID}] = len(d.Patients)
	d.Patients = append(d.Patients, clinical.PatientData{Patient: clinical.Patient{
		TIN: r.TIN, SourceID: r.SourceID, BirthDate: birth, Sex: sex, Race: r.Race,
		Ethnicity: r.Ethnicity, PayerType: r.PayerType, DeathDate: death,
	}})
}

// owner finds the patient a record belongs to.
func (c *check) owner(tin, patientID string) *clinical.PatientData {
	c.tin(tin)
	c.required("sourceId", c.record)
	if patientID == "" {
		c.fail("patientId", "required")
		return nil
	}
	i, ok := c.d.byKey[patientKey{tin, patientID}]
	if !ok {
		c.fail("patientId", "no patient record %q in TIN %s", patientID, tin)
		return nil
	}
	return &c.d.Patients[i]
}

func (d *Dataset) add(pd pending) {
	switch r := pd.rec.(type) {
	case *practiceRec:
		c := d.checker(pd, r.TIN, r.TIN)
		c.tin(r.TIN)
		c.unique("practice", r.TIN, r.TIN)
		if !c.bad {
			d.Practices = append(d.Practices, clinical.Practice{TIN: r.TIN, Name: r.Name, TimeZone: r.TimeZone})
		}
	case *clinicianRec:
		c := d.checker(pd, "", r.NPI)
		c.npi("npi", r.NPI, true)
		c.unique("clinician", "", r.NPI)
		if !c.bad {
			d.Clinicians = append(d.Clinicians, clinical.Clinician{NPI: r.NPI, Name: r.Name, Specialty: r.Specialty})
		}
	case *encounterRec:
		c := d.checker(pd, r.TIN, r.SourceID)
		p := c.owner(r.TIN, r.PatientID)
		c.npi("renderingNpi", r.RenderingNPI, false)
		e := clinical.Encounter{TIN: r.TIN, SourceID: r.SourceID, PatientID: r.PatientID, RenderingNPI: r.RenderingNPI, POS: r.POS}
		e.Start, e.StartAt, _ = c.date("start", r.Start, true)
		if end, at, ok := c.date("end", r.End, false); ok {
			e.End, e.EndAt = clinical.Some(end), at
			if end < e.Start {
				c.fail("end", "before start")
			}
		}
		e.Discharge = c.nullDate("discharge", r.Discharge)
		switch cl := clinical.EncounterClass(r.Class); cl {
		case clinical.Ambulatory, clinical.Emergency, clinical.Inpatient, clinical.Observation, clinical.Virtual:
			e.Class = cl
		case "":
			e.Class = clinical.Ambulatory
		default:
			c.fail("class", "%q: want ambulatory, emergency, inpatient, observation or virtual", r.Class)
		}
		if r.POS != "" && !clinical.ValidPOS(r.POS) {
			c.fail("pos", "%q is not a two-digit place of service", r.POS)
		}
		for i, l := range r.Lines {
			f := fmt.Sprintf("lines[%d]", i)
			e.Lines = append(e.Lines, clinical.Line{Code: c.code(f+".code", l.Code), Modifiers: c.modifiers(f+".modifiers", l.Modifiers)})
		}
		for i, x := range r.Diagnoses {
			e.Diagnoses = append(e.Diagnoses, c.code(fmt.Sprintf("diagnoses[%d]", i), x))
		}
		c.unique("encounter", r.TIN, r.SourceID)
		if !c.bad && p != nil {
			p.Encounters = append(p.Encounters, e)
		}
	case *procedureRec:
		c := d.checker(pd, r.TIN, r.SourceID)
		p := c.owner(r.TIN, r.PatientID)
		c.npi("npi", r.NPI, false)
		x := clinical.Procedure{TIN: r.TIN, SourceID: r.SourceID, PatientID: r.PatientID, Code: c.code("code", r.Code), NPI: r.NPI, EncounterID: r.EncounterID, NotDone: r.NotDone}
		x.Date, _, _ = c.date("date", r.Date, true)
		c.unique("procedure", r.TIN, r.SourceID)
		if !c.bad && p != nil {
			p.Procedures = append(p.Procedures, x)
		}
	case *conditionRec:
		c := d.checker(pd, r.TIN, r.SourceID)
		p := c.owner(r.TIN, r.PatientID)
		x := clinical.Condition{TIN: r.TIN, SourceID: r.SourceID, PatientID: r.PatientID, Code: c.code("code", r.Code), EncounterID: r.EncounterID}
		x.Onset, _, _ = c.date("onset", r.Onset, true)
		c.unique("condition", r.TIN, r.SourceID)
		if !c.bad && p != nil {
			p.Conditions = append(p.Conditions, x)
		}
	case *medicationRec:
		c := d.checker(pd, r.TIN, r.SourceID)
		p := c.owner(r.TIN, r.PatientID)
		c.npi("npi", r.NPI, false)
		x := clinical.MedicationEvent{TIN: r.TIN, SourceID: r.SourceID, PatientID: r.PatientID, Code: c.code("code", r.Code), DaysSupply: r.DaysSupply, Quantity: r.Quantity, NPI: r.NPI}
		switch k := clinical.MedicationKind(r.Kind); k {
		case clinical.MedOrder, clinical.MedDispense, clinical.MedAdministration:
			x.Kind = k
		default:
			c.fail("kind", "%q: want order, dispense or administration", r.Kind)
		}
		if r.DaysSupply < 0 {
			c.fail("daysSupply", "cannot be negative")
		}
		x.Date, _, _ = c.date("date", r.Date, true)
		c.unique("medication", r.TIN, r.SourceID)
		if !c.bad && p != nil {
			p.Medications = append(p.Medications, x)
		}
	case *qualityRec:
		c := d.checker(pd, r.TIN, r.SourceID)
		p := c.owner(r.TIN, r.PatientID)
		c.npi("npi", r.NPI, false)
		x := clinical.QualityCode{TIN: r.TIN, SourceID: r.SourceID, PatientID: r.PatientID, Code: c.code("code", r.Code), Modifiers: c.modifiers("modifiers", r.Modifiers), NPI: r.NPI, EncounterID: r.EncounterID}
		x.Date, _, _ = c.date("date", r.Date, true)
		c.unique("qualityCode", r.TIN, r.SourceID)
		if !c.bad && p != nil {
			p.Quality = append(p.Quality, x)
		}
	case *coverageRec:
		c := d.checker(pd, r.TIN, r.SourceID)
		p := c.owner(r.TIN, r.PatientID)
		x := clinical.Coverage{TIN: r.TIN, SourceID: r.SourceID, PatientID: r.PatientID, PayerType: r.PayerType}
		x.Period.Start, _, _ = c.date("start", r.Start, true)
		x.Period.End, _, _ = c.date("end", r.End, true)
		if !c.bad && x.Period.End < x.Period.Start {
			c.fail("end", "before start")
		}
		c.unique("coverage", r.TIN, r.SourceID)
		if !c.bad && p != nil {
			p.Coverage = append(p.Coverage, x)
		}
	case *flagRec:
		c := d.checker(pd, r.TIN, r.SourceID)
		p := c.owner(r.TIN, r.PatientID)
		x := clinical.Flag{TIN: r.TIN, SourceID: r.SourceID, PatientID: r.PatientID}
		switch k := clinical.FlagKind(r.Kind); k {
		case clinical.FlagHospice, clinical.FlagLongTermInstitution, clinical.FlagISNP:
			x.Kind = k
		default:
			c.fail("kind", "%q: want hospice, long_term_institution or i_snp", r.Kind)
		}
		x.Start, _, _ = c.date("start", r.Start, true)
		x.End = c.nullDate("end", r.End)
		if x.End.Valid && x.End.Date < x.Start {
			c.fail("end", "before start")
		}
		c.unique("flag", r.TIN, r.SourceID)
		if !c.bad && p != nil {
			p.Flags = append(p.Flags, x)
		}
	}
}
