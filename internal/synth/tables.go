package synth

import "github.com/liaison-registry/liaison/internal/clinical"

// The code tables the generator draws from. Fracture, encounter and
// quality-data codes are taken from the measure files (measures/mips-418/2024,
// mips-024/2024, mips-039/2024, measures/valuesets) so generated data
// actually meets the measures; codes that must never count (finger, toe,
// skull) are chosen because those lists leave them out.

func cpt(c string) clinical.Code   { return clinical.Code{System: clinical.CPT, Code: c} }
func hcpcs(c string) clinical.Code { return clinical.Code{System: clinical.HCPCS, Code: c} }
func icd(c string) clinical.Code   { return clinical.Code{System: clinical.ICD10CM, Code: c} }
func rx(c string) clinical.Code    { return clinical.Code{System: clinical.RxNorm, Code: c} }

func codes(f func(string) clinical.Code, cs ...string) []clinical.Code {
	out := make([]clinical.Code, len(cs))
	for i, c := range cs {
		out[i] = f(c)
	}
	return out
}

// site is a fracture site with its share of fragility fractures.
type site struct {
	name  string
	share float64
	// dx are initial-encounter codes (7th character A); follow-up visits
	// carry the same code with D (subsequent encounter, routine healing),
	// which no measure list contains, as on real claims.
	dx []clinical.Code
	// surgery are fracture-surgery CPTs of #418/#024 option 01, done for
	// surgeryShare of these fractures.
	surgery      []clinical.Code
	surgeryShare float64
	admitted     bool // hip fractures are admitted and operated on
	counts       bool // in the #418 fracture list
}

// sites: shares loosely follow US fragility-fracture incidence by site
// (Burge et al., JBMR 2007: vertebral 27%, wrist 19%, hip 14%, pelvis 7%,
// other 33%; recalled, [S]) with the spine at the share of index fractures
// FLS-DB services identify, 17.9% (fls.md §2, KPI 3). Finger, toe and skull
// fractures are in the mix because practices see them, and #418 excludes
// them (measures.md §2.2, §6.1).
var sites = []site{
	{name: "hip", share: 0.17, dx: codes(icd, "S72.001A", "S72.002A", "S72.011A", "S72.141A", "S72.142A"),
		surgery: codes(cpt, "27236", "27245", "27244"), surgeryShare: 0.95, admitted: true, counts: true},
	{name: "vertebra", share: 0.18, dx: codes(icd, "S32.010A", "S32.020A", "S22.000A", "S22.080A", "M80.08XA"),
		surgery: codes(cpt, "22513", "22514"), surgeryShare: 0.10, counts: true},
	{name: "distal radius", share: 0.20, dx: codes(icd, "S52.501A", "S52.502A", "S52.531A", "S52.532A", "S52.571A"),
		surgery: codes(cpt, "25600", "25605", "25607", "25608"), surgeryShare: 0.45, counts: true},
	{name: "humerus", share: 0.10, dx: codes(icd, "S42.201A", "S42.202A", "S42.211A", "S42.221A"), counts: true},
	{name: "ankle", share: 0.10, dx: codes(icd, "S82.841A", "S82.842A", "S82.891A", "S82.51XA", "S82.61XA"), counts: true},
	{name: "pelvis", share: 0.07, dx: codes(icd, "S32.591A", "S32.810A", "S32.401A"), counts: true},
	{name: "finger", share: 0.08, dx: codes(icd, "S62.600A", "S62.610A")},
	{name: "toe", share: 0.06, dx: codes(icd, "S92.401A", "S92.411A")},
	{name: "skull", share: 0.04, dx: codes(icd, "S02.0XXA", "S02.609A")},
}

// followUpDx is the subsequent-encounter form of an initial fracture code.
func followUpDx(c clinical.Code) clinical.Code {
	return icd(c.Code[:len(c.Code)-1] + "D")
}

// Encounter codes. Office visits are in every #418/#024/#039 option-00 list
// for 2024; ED and hospital codes only in #418's.
var (
	officeEstablished = codes(cpt, "99212", "99213", "99213", "99213", "99214", "99214", "99214", "99215")
	officeNew         = codes(cpt, "99203", "99204")
	edVisit           = codes(cpt, "99283", "99284", "99285")
	hospitalAdmit     = cpt("99223")
	virtualVisit      = cpt("99442")
	annualWellness    = hcpcs("G0439")
)

// chronic is a long-term condition with its prevalence among patients of a
// given age and the drug, if any, it is treated with.
type chronic struct {
	dx   clinical.Code
	prev func(age int, female bool) float64
	drug clinical.Code // zero when none
}

// Prevalences are round figures for US adults of these ages (illustrative,
// not from the reference folder): they shape visit diagnoses, not measures,
// except osteoporosis (M81.0), a #039 exclusion.
var chronics = []chronic{
	{icd("I10"), func(a int, _ bool) float64 { return 0.25 + 0.005*float64(a-40) }, rx("29046")}, // lisinopril
	{icd("E78.5"), func(a int, _ bool) float64 { return 0.30 }, rx("83367")},                     // atorvastatin
	{icd("E11.9"), func(a int, _ bool) float64 { return 0.15 }, rx("6809")},                      // metformin
	{icd("E03.9"), func(a int, f bool) float64 { return pick(f, 0.12, 0.04) }, rx("10582")},      // levothyroxine
	{icd("J44.9"), func(a int, _ bool) float64 { return 0.06 }, clinical.Code{}},
	{icd("N18.30"), func(a int, _ bool) float64 { return 0.002 * float64(max(a-50, 0)) }, clinical.Code{}},
	{icd("F03.90"), func(a int, _ bool) float64 { return 0.004 * float64(max(a-70, 0)) }, clinical.Code{}},
	{icd("M81.0"), func(a int, f bool) float64 { return pick(f, 0.004, 0.001) * float64(max(a-50, 0)) }, clinical.Code{}},
}

var (
	wellVisitDx = icd("Z00.00")
	palliative  = icd("Z51.5") // measures/valuesets/palliative.txt
)

// Bone density tests (measures/valuesets/bmd.txt; 77080 and 77085 are the
// central DXA of #039, measures/valuesets/central-dxa.txt).
var bmdTests = append(codes(cpt, "77080", "77080", "77080", "77080", "77080", "77080", "77085", "77085", "77081"), hcpcs("G0130"))

// agent is an osteoporosis drug as a practice records it.
type agent struct {
	code       clinical.Code
	kind       clinical.MedicationKind
	daysSupply int32 // per fill or dose
	share      float64
}

// Agents after a fragility fracture: oral alendronate or risedronate first,
// IV zoledronic acid or SC denosumab as alternatives, anabolic agents for a
// few (ASBMR coalition, fls.md §4.2). Parenteral days' supply per fls.md
// §5.3, as aom-pdc's drugs file gives it from the FDA labels (a teriparatide
// pen lasts 28 days), so a record read without its supply (a FHIR
// administration carries none) lasts as long as the native one. Codes from
// measures/valuesets/osteoporosis-meds.txt.
var agents = []agent{
	{rx("904431"), clinical.MedDispense, 90, 0.55},          // alendronic acid 70 MG oral tablet
	{rx("905024"), clinical.MedDispense, 90, 0.08},          // risedronate 35 MG oral tablet
	{hcpcs("J3489"), clinical.MedAdministration, 365, 0.14}, // zoledronic acid
	{hcpcs("J0897"), clinical.MedAdministration, 183, 0.15}, // denosumab
	{hcpcs("J3110"), clinical.MedAdministration, 28, 0.03},  // teriparatide, one pen
	{rx("1490065"), clinical.MedDispense, 90, 0.05},         // raloxifene 60 MG oral tablet
}

// Quality-data codes (measures/mips-418/2024/cms.yaml, mips-024/2024,
// mips-039/2024).
var (
	qDXA          = cpt("3095F") // met; with 8P not met
	qTherapy      = hcpcs("G8633")
	qNoTherapy    = hcpcs("G8635")
	qHospice418   = hcpcs("G9768")
	qPrior418     = hcpcs("G9769")
	qLTC418       = hcpcs("G9938")
	qFrail81      = hcpcs("G2125")
	qPalliative   = hcpcs("G0048")
	qComm         = cpt("5015F") // #024; with 8P not met
	qHospice024   = hcpcs("G9688")
	qDXAEver      = hcpcs("G8399") // #039
	qNoDXAEver    = hcpcs("G8400")
	qHospice039   = hcpcs("G9690")
	notMetReason8 = []string{"8P"}
)

// Practice and clinician names, time zones and specialties.
var (
	places = []string{"Riverside", "Lakeside", "Hillcrest", "Maple Grove", "Cedar Valley", "Harborview", "Pinecrest",
		"Westfield", "Northgate", "Fairview", "Oak Ridge", "Summit", "Brookside", "Eastlake", "Meadowbrook", "Sunset"}
	kinds = []struct {
		name      string
		specialty string // NUCC taxonomy code of most of its clinicians
	}{
		{"Orthopedics", "207X00000X"}, {"Family Medicine", "207Q00000X"}, {"Internal Medicine", "207R00000X"},
		{"Bone Health", "207RE0101X"}, {"Primary Care", "207Q00000X"}, {"Rheumatology", "207RR0500X"},
	}
	orthopaedics = "207X00000X"
	zones        = []string{"America/New_York", "America/New_York", "America/Chicago", "America/Chicago", "America/Denver",
		"America/Phoenix", "America/Los_Angeles", "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"}
	firstNames = []string{"Ada", "Ben", "Chioma", "Diego", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kate",
		"Luis", "Mei", "Nora", "Omar", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Victor", "Wen", "Yara"}
	lastNames = []string{"Okafor", "Nguyen", "Garcia", "Smith", "Kowalski", "Haddad", "Johnson", "Tanaka", "Silva",
		"Brown", "Patel", "Müller", "Rossi", "Cohen", "Kim", "Williams", "Ivanova", "Mensah", "Lopez", "Chen"}
)

// CDC race and ethnicity codes with round US shares for older adults.
var (
	races = []struct {
		code  string
		share float64
	}{{"2106-3", 0.76}, {"2054-5", 0.11}, {"2028-9", 0.06}, {"1002-5", 0.01}, {"2076-8", 0.005}, {"2131-1", 0.055}}
	hispanic    = "2135-2"
	notHispanic = "2186-5"
)

// pick returns a when cond holds, else b.
func pick[T any](cond bool, a, b T) T {
	if cond {
		return a
	}
	return b
}
