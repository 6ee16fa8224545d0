package clinical

import "time"

// The records a practice sends. Every record belongs to one practice (TIN)
// and is keyed by (TIN, SourceID): the id the practice's own system gave it.
// Sending a record again with the same key replaces it.

// Sex as recorded for the measures (administrative sex).
type Sex string

const (
	Female       Sex = "F"
	Male         Sex = "M"
	SexUnknown   Sex = "U"
	SexUndefined Sex = ""
)

// EncounterClass is the setting of an encounter.
type EncounterClass string

const (
	Ambulatory  EncounterClass = "ambulatory"
	Emergency   EncounterClass = "emergency"
	Inpatient   EncounterClass = "inpatient"
	Observation EncounterClass = "observation"
	Virtual     EncounterClass = "virtual"
)

// MedicationKind says how a medication event was recorded.
type MedicationKind string

const (
	MedOrder          MedicationKind = "order"
	MedDispense       MedicationKind = "dispense"
	MedAdministration MedicationKind = "administration"
	// MedStatement: the patient is, or was, taking the drug (e.g. a FHIR
	// MedicationStatement), from Date for DaysSupply days when known.
	MedStatement MedicationKind = "statement"
)

// FlagKind is an institutional status that excludes patients from measures.
type FlagKind string

const (
	FlagHospice             FlagKind = "hospice"
	FlagLongTermInstitution FlagKind = "long_term_institution"
	FlagISNP                FlagKind = "i_snp"
)

// CareKind is what a fracture-liaison care event records.
type CareKind string

const (
	CareFLSAssessment           CareKind = "fls_assessment"
	CareFractureRisk            CareKind = "fracture_risk_assessment"
	CareFallsAssessment         CareKind = "falls_assessment"
	CareFallsReferral           CareKind = "falls_referral"
	CareAOMRecommended          CareKind = "aom_recommended"
	CareAOMDeclined             CareKind = "aom_declined"
	CareAOMContraindicated      CareKind = "aom_contraindicated"
	CareStrengthBalanceReferral CareKind = "strength_balance_referral"
	CareStrengthBalanceStart    CareKind = "strength_balance_start"
	CareMonitoringContact       CareKind = "monitoring_contact"
	CareResidence               CareKind = "residence"
)

// RiskTool is a fracture-risk assessment tool.
type RiskTool string

const (
	ToolFRAX      RiskTool = "frax"
	ToolQFracture RiskTool = "qfracture"
	ToolGarvan    RiskTool = "garvan"
	ToolOther     RiskTool = "other"
)

// Residence is where a patient lives.
type Residence string

const (
	ResidenceCareHome Residence = "care_home"
	ResidenceOwnHome  Residence = "own_home"
	ResidenceOther    Residence = "other"
)

// Practice is a TIN with its name and the time zone its datetimes are read in.
type Practice struct {
	TIN      string
	Name     string
	TimeZone string // IANA name; "": none, so datetimes keep the date they were written with
}

// Clinician is identified by NPI across practices.
type Clinician struct {
	// TIN is the practice that sent these details ("" for the registry's
	// operator): each practice keeps its own name for a clinician.
	TIN       string
	NPI       string
	Name      string
	Specialty string // e.g. a NUCC taxonomy code or a plain name
}

// Patient demographics needed for eligibility and supplemental data.
type Patient struct {
	TIN       string
	SourceID  string
	BirthDate Date      // the first day the birth date can be
	BirthPrec Precision // a partial birth date ("1950-06") spans its month or year
	Sex       Sex
	Race      []string // CDC race codes (e.g. 2106-3)
	Ethnicity string   // CDC ethnicity code (2135-2 or 2186-5)
	PayerType string   // e.g. SOP payer typology code or "medicare"
	DeathDate NullDate
	Origin    string // where the record was read (file and line), as sent
}

// Ages returns the youngest and oldest the patient can be on on: equal for
// a full birth date, a range for a partial one.
func (p *Patient) Ages(on Date) (youngest, oldest int) {
	return AgesOn(p.BirthDate, p.BirthPrec.Last(p.BirthDate), on)
}

// MergeFrom returns the patient after a newer record of the same patient
// (same TIN and source id, e.g. from another file or format) is added:
// the newer record's birth date and sex win, and optional fields it leaves
// empty keep what was known, so a claims extract that carries no race or
// death date does not erase what an EHR export said.
func (p Patient) MergeFrom(n Patient) Patient {
	out := n
	if len(out.Race) == 0 {
		out.Race = p.Race
	}
	if out.Ethnicity == "" {
		out.Ethnicity = p.Ethnicity
	}
	if out.PayerType == "" {
		out.PayerType = p.PayerType
	}
	if !out.DeathDate.Valid {
		out.DeathDate = p.DeathDate
	}
	if out.Sex == SexUndefined {
		out.Sex = p.Sex
	}
	return out
}

// Encounter is a visit or stay with the codes billed for it.
type Encounter struct {
	TIN          string
	SourceID     string
	PatientID    string
	RenderingNPI string
	Start        Date
	End          NullDate
	StartAt      time.Time // the instant as sent, when sent as a datetime
	EndAt        time.Time
	Class        EncounterClass
	POS          string // CMS place-of-service code
	Lines        []Line // procedure codes (CPT, HCPCS) with modifiers
	Diagnoses    []Code // in claim order; first is principal
	Discharge    NullDate
	Origin       string
}

// Line is one billed procedure code with its modifiers.
type Line struct {
	Code      Code     `json:"code"`
	Modifiers []string `json:"modifiers,omitempty"`
}

// Procedure is a performed (or explicitly not done) procedure such as a DXA.
type Procedure struct {
	TIN         string
	SourceID    string
	PatientID   string
	Code        Code
	Date        Date
	NPI         string
	EncounterID string
	NotDone     bool
	Origin      string
}

// Condition is a diagnosis recorded outside a claim (e.g. a problem list entry).
type Condition struct {
	TIN         string
	SourceID    string
	PatientID   string
	Code        Code
	Onset       Date
	EncounterID string
	Origin      string
}

// MedicationEvent is an order, dispense or administration of a drug.
type MedicationEvent struct {
	TIN        string
	SourceID   string
	PatientID  string
	Kind       MedicationKind
	Code       Code
	Date       Date
	DaysSupply int32
	Quantity   float64
	NPI        string
	Display    string // the drug's name as sent (a coding's display or the text)
	Origin     string
}

// QualityCode is a quality-data code (CPT II or HCPCS G-code) as reported on a claim line.
type QualityCode struct {
	TIN         string
	SourceID    string
	PatientID   string
	Code        Code
	Modifiers   []string // 1P, 2P, 3P, 8P
	Date        Date
	NPI         string
	EncounterID string
	Origin      string
}

// Coverage is an enrollment span.
type Coverage struct {
	TIN       string
	SourceID  string
	PatientID string
	Start     Date
	End       NullDate // open-ended when not valid
	PayerType string
	Origin    string
}

// Flag is an institutional status (hospice election, long-term institution, I-SNP) over a span.
type Flag struct {
	TIN       string
	SourceID  string
	PatientID string
	Kind      FlagKind
	Start     Date
	End       NullDate
	Origin    string
}

// CareEvent is one step of fracture-liaison care (FLS assessment, risk and
// falls assessments, referrals, AOM decisions, monitoring contacts) or where
// the patient lives over a span. Fields beyond the key, kind and date apply
// to some kinds only; ingest checks which.
type CareEvent struct {
	TIN         string
	SourceID    string
	PatientID   string
	Kind        CareKind
	Date        Date
	End         NullDate // residence: until when; open-ended when not valid
	NPI         string
	Service     string   // e.g. the FLS's name
	Tool        RiskTool // fracture-risk assessment: the tool, "" when not stated
	Score       NullFloat
	OnTreatment NullBool // monitoring contact: on AOM then, when stated
	Residence   Residence
	Reason      string // why AOM was declined or is contraindicated
	Code        Code   // the coded concept as sent; zero when none
	Display     string // the code's display text as sent
	Origin      string
}

// NullFloat is a number that may be absent.
type NullFloat struct {
	Value float64
	Valid bool
}

// NullBool is a yes or no that may be absent.
type NullBool struct {
	Value bool
	Valid bool
}

// PatientData is everything known about one patient in one practice: the
// unit the measure engine evaluates and the store streams.
type PatientData struct {
	Patient     Patient
	Encounters  []Encounter
	Procedures  []Procedure
	Conditions  []Condition
	Medications []MedicationEvent
	Quality     []QualityCode
	Coverage    []Coverage
	Flags       []Flag
	CareEvents  []CareEvent
}

// Span returns the coverage as a period, an open end read as `until`.
func (c Coverage) Span(until Date) Period {
	if c.End.Valid {
		return Period{c.Start, c.End.Date}
	}
	return Period{c.Start, until}
}

// Add appends a record of the patient to the list of its kind; it reports
// false for values that are not patient records (practices, clinicians,
// the patient itself).
func (p *PatientData) Add(rec any) bool {
	switch v := rec.(type) {
	case Encounter:
		p.Encounters = append(p.Encounters, v)
	case Procedure:
		p.Procedures = append(p.Procedures, v)
	case Condition:
		p.Conditions = append(p.Conditions, v)
	case MedicationEvent:
		p.Medications = append(p.Medications, v)
	case QualityCode:
		p.Quality = append(p.Quality, v)
	case Coverage:
		p.Coverage = append(p.Coverage, v)
	case Flag:
		p.Flags = append(p.Flags, v)
	case CareEvent:
		p.CareEvents = append(p.CareEvents, v)
	default:
		return false
	}
	return true
}
