package fhir

import "encoding/json"

// The R4 elements Liaison reads, as one struct shared by every resource type:
// encoding/json skips what is not listed, and elements whose shape differs
// between types (name, type) stay raw until the type is known.

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

type concept struct {
	Coding []coding `json:"coding"`
	Text   string   `json:"text"`
}

type identifier struct {
	System string   `json:"system"`
	Value  string   `json:"value"`
	Type   *concept `json:"type"`
}

type reference struct {
	Reference  string      `json:"reference"`
	Type       string      `json:"type"` // the type a logical reference names, when given
	Identifier *identifier `json:"identifier"`
}

type period struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

type quantity struct {
	Value *float64 `json:"value"`
	Unit  string   `json:"unit"`
	Code  string   `json:"code"`
}

type extension struct {
	URL         string      `json:"url"`
	ValueCode   string      `json:"valueCode"`
	ValueCoding *coding     `json:"valueCoding"`
	Extension   []extension `json:"extension"`
}

type humanName struct {
	Text   string   `json:"text"`
	Family string   `json:"family"`
	Given  []string `json:"given"`
}

type participant struct {
	Type       []concept  `json:"type"`
	Individual *reference `json:"individual"`
}

type diagnosis struct {
	// Encounter.diagnosis
	Condition *reference `json:"condition"`
	Rank      int        `json:"rank"`
	// Claim/ExplanationOfBenefit.diagnosis
	Sequence                 int        `json:"sequence"`
	DiagnosisCodeableConcept *concept   `json:"diagnosisCodeableConcept"`
	DiagnosisReference       *reference `json:"diagnosisReference"`
}

type encounterLocation struct {
	Location reference `json:"location"`
}

type performer struct {
	Actor      *reference `json:"actor"`
	OnBehalfOf *reference `json:"onBehalfOf"`
}

type careTeam struct {
	Sequence int        `json:"sequence"`
	Provider *reference `json:"provider"`
	Role     *concept   `json:"role"`
}

type claimItem struct {
	Sequence                int         `json:"sequence"`
	CareTeamSequence        []int       `json:"careTeamSequence"`
	ProductOrService        *concept    `json:"productOrService"`
	Modifier                []concept   `json:"modifier"`
	ServicedDate            string      `json:"servicedDate"`
	ServicedPeriod          *period     `json:"servicedPeriod"`
	LocationCodeableConcept *concept    `json:"locationCodeableConcept"`
	Quantity                *quantity   `json:"quantity"`
	Encounter               []reference `json:"encounter"`
	Revenue                 *concept    `json:"revenue"` // NUBC revenue code (institutional claims)
}

type supportingInfo struct {
	Category      concept   `json:"category"`
	ValueQuantity *quantity `json:"valueQuantity"`
	Code          *concept  `json:"code"`         // typeofbill, discharge-status
	TimingPeriod  *period   `json:"timingPeriod"` // admissionperiod
}

// claimFacility is Claim/ExplanationOfBenefit.facility: a Location
// reference, and in CMS Blue Button 2.0 the carrier of the facility type
// code (an extension).
type claimFacility struct {
	Reference  string      `json:"reference"`
	Identifier *identifier `json:"identifier"`
	Extension  []extension `json:"extension"`
}

// issue is one OperationOutcome.issue.
type issue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics"`
	Details     *concept `json:"details"`
}

type qualification struct {
	Code *concept `json:"code"`
}

type hospitalization struct {
	DischargeDisposition *concept `json:"dischargeDisposition"`
}

type dispenseRequest struct {
	ExpectedSupplyDuration *quantity `json:"expectedSupplyDuration"`
	Quantity               *quantity `json:"quantity"`
}

type resource struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Status       string            `json:"status"`
	Identifier   []identifier      `json:"identifier"`
	Name         json.RawMessage   `json:"name"` // string (Organization) or []HumanName (Patient, Practitioner)
	Type         json.RawMessage   `json:"type"` // []CodeableConcept (Encounter, Location, Organization) or CodeableConcept (Coverage, Claim)
	Contained    []json.RawMessage `json:"contained"`
	Extension    []extension       `json:"extension"`

	// Patient
	Gender               string     `json:"gender"`
	BirthDate            string     `json:"birthDate"`
	DeceasedBoolean      *bool      `json:"deceasedBoolean"`
	DeceasedDateTime     string     `json:"deceasedDateTime"`
	ManagingOrganization *reference `json:"managingOrganization"`

	// Practitioner
	Qualification []qualification `json:"qualification"`

	// PractitionerRole
	Practitioner *reference `json:"practitioner"`
	Organization *reference `json:"organization"`

	// Encounter
	Class           json.RawMessage  `json:"class"`  // Coding (Encounter); a list elsewhere (Coverage)
	Period          *period          `json:"period"` // also Coverage
	Participant     []participant    `json:"participant"`
	ServiceProvider *reference       `json:"serviceProvider"`
	Hospitalization *hospitalization `json:"hospitalization"`
	ReasonCode      []concept        `json:"reasonCode"`      // also MedicationRequest, Procedure
	ReasonReference []reference      `json:"reasonReference"` // likewise
	Location        json.RawMessage  `json:"location"`        // a list (Encounter) or a Reference (Procedure)
	Diagnosis       []diagnosis      `json:"diagnosis"`       // also Claim, ExplanationOfBenefit

	// Condition, Procedure, Medication
	Code               *concept        `json:"code"`
	Subject            *reference      `json:"subject"`
	Patient            *reference      `json:"patient"` // Claim, ExplanationOfBenefit
	Encounter          *reference      `json:"encounter"`
	Context            *reference      `json:"context"` // MedicationDispense, MedicationAdministration
	VerificationStatus *concept        `json:"verificationStatus"`
	OnsetDateTime      string          `json:"onsetDateTime"`
	OnsetPeriod        *period         `json:"onsetPeriod"`
	RecordedDate       string          `json:"recordedDate"`
	PerformedDateTime  string          `json:"performedDateTime"`
	PerformedPeriod    *period         `json:"performedPeriod"`
	Performer          json.RawMessage `json:"performer"` // a list, but a Reference on MedicationRequest
	Outcome            json.RawMessage `json:"outcome"`   // a CodeableConcept on Procedure, a code on ExplanationOfBenefit

	// MedicationRequest, MedicationDispense, MedicationAdministration
	MedicationCodeableConcept *concept         `json:"medicationCodeableConcept"`
	MedicationReference       *reference       `json:"medicationReference"`
	AuthoredOn                string           `json:"authoredOn"`
	Requester                 *reference       `json:"requester"`
	DispenseRequest           *dispenseRequest `json:"dispenseRequest"`
	WhenHandedOver            string           `json:"whenHandedOver"`
	WhenPrepared              string           `json:"whenPrepared"`
	DaysSupply                *quantity        `json:"daysSupply"`
	Quantity                  *quantity        `json:"quantity"`
	EffectiveDateTime         string           `json:"effectiveDateTime"`
	EffectivePeriod           *period          `json:"effectivePeriod"`
	DateAsserted              string           `json:"dateAsserted"`      // MedicationStatement
	InformationSource         *reference       `json:"informationSource"` // MedicationStatement
	Intent                    string           `json:"intent"`            // MedicationRequest
	DoNotPerform              *bool            `json:"doNotPerform"`      // MedicationRequest
	// statusReason: a CodeableConcept (MedicationRequest) or a list of them
	// (MedicationStatement, MedicationAdministration), decoded per type.
	StatusReason                json.RawMessage `json:"statusReason"`
	StatusReasonCodeableConcept *concept        `json:"statusReasonCodeableConcept"` // MedicationDispense

	// DiagnosticReport, Observation (also effective[x] above)
	EffectiveInstant string `json:"effectiveInstant"`
	Issued           string `json:"issued"`
	// Observation value[x]: the ones care events read (a FRAX score, a housing status)
	ValueQuantity        *quantity `json:"valueQuantity"`
	ValueCodeableConcept *concept  `json:"valueCodeableConcept"`

	// OperationOutcome
	Issue []issue `json:"issue"`

	// Coverage
	Beneficiary *reference `json:"beneficiary"`

	// Claim, ExplanationOfBenefit
	Use            string           `json:"use"`
	BillablePeriod *period          `json:"billablePeriod"`
	Created        string           `json:"created"`
	Provider       *reference       `json:"provider"`
	CareTeam       []careTeam       `json:"careTeam"`
	Item           []claimItem      `json:"item"`
	SupportingInfo []supportingInfo `json:"supportingInfo"`
	SubType        *concept         `json:"subType"`
	Facility       *claimFacility   `json:"facility"`
}
