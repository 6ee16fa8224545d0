package clinical

import (
	"fmt"
	"strings"
)

// The setting of care (encounter class) of a claim, derived from what claims
// carry, as administrative (claims-based) measure specifications such as
// HEDIS OMW identify outpatient and ED visits, observation stays and
// inpatient stays. This is the one place the rule lives; the CSV claims
// reader and the FHIR Claim/ExplanationOfBenefit reader both call it.
//
// Sources (public; NCQA's HEDIS value sets themselves are licensed and not
// used here):
//
//	[POS]  CMS Place of Service Code Set,
//	       https://www.cms.gov/medicare/coding-billing/place-of-service-codes/code-sets,
//	       as expanded in HL7 Terminology (THO) ValueSet CMSPlaceOfServiceCodes
//	       (code system version 20240502),
//	       https://terminology.hl7.org/ValueSet-CMSPlaceOfServiceCodes.html.
//	[TOB]  NUBC type of bill (UB-04 form locator 4) as CMS and ResDAC publish its
//	       parts: facility type CLM_FAC_TYPE_CD (first digit),
//	       https://resdac.org/cms-data/variables/claim-facility-type-code-encounter;
//	       service classification CLM_SRVC_CLSFCTN_TYPE_CD (second digit; its
//	       meaning depends on the facility type),
//	       https://bluebutton.cms.gov/resources/variables/clm_srvc_clsfctn_type_cd;
//	       frequency CLM_FREQ_CD (third digit),
//	       https://bluebutton.cms.gov/resources/variables/clm_freq_cd; the
//	       four-character form with a leading zero, ResDAC "Bill Type Code" (TAF),
//	       https://resdac.org/cms-data/variables/bill-type-code.
//	[REV]  NUBC revenue codes (UB-04 form locator 42), four digits, as ResDAC's
//	       Revenue Center Code code book (FFS) lists them (0100-0219
//	       accommodations: all-inclusive, private, semi-private, ward, other
//	       room and board, nursery, leave of absence, subacute, intensive and
//	       coronary care),
//	       https://resdac.org/sites/datadocumentation.resdac.org/files/Revenue%20Center%20Code%20Code%20Book%20%28FFS%29.txt.
//	[ER]   ResDAC, "How to identify hospital claims for emergency room visits in
//	       the Medicare claims data": revenue center codes 0450-0459 (emergency
//	       room) and 0981 (professional fees, emergency room), on outpatient and
//	       inpatient claims; ER charges on an inpatient claim mean the patient was
//	       admitted,
//	       https://www.resdac.org/articles/how-identify-hospital-claims-emergency-room-visits-medicare-claims-data.
//	[OBS]  Revenue code 0762 (observation room): outpatient observation
//	       services are billed with revenue code 0762, TRICARE Policy Manual
//	       6010.63-M ch. 2 §2.3 ¶4.2.8,
//	       https://manuals.health.mil/pages/DisplayManualHtmlFile/2021-06-25/AsOf/tp15/c2s2_3.html,
//	       which follows the CMS Medicare Claims Processing Manual (Pub. 100-04)
//	       ch. 4 §290 (not itself read for this file).
//	[DS]   NUBC patient discharge status (UB-04 form locator 17) as ResDAC lists
//	       it: 09 admitted as an inpatient to this hospital, 30 still patient,
//	       https://resdac.org/sites/datadocumentation.resdac.org/files/Patient%20Discharge%20Status%20Code%20Table%20%28FFS%29.txt.
//	[VSAC] eCQM value sets authored by NCQA and published in VSAC, expansion
//	       2023-05-04, as stored in cqframework/ecqm-content-qicore-2024
//	       input/vocabulary/valueset/external/valueset-<OID>.json:
//	       ED 2.16.840.1.113883.3.464.1003.101.12.1085, Observation ...1086,
//	       Acute Inpatient ...1083, Nonacute Inpatient ...1084, Outpatient ...1087.
//
// Not sourced: CPT 99224-99226 (subsequent observation care, 2011-2022) are
// not in the VSAC Observation expansion read above; they are read as
// observation from their CPT descriptor alone. POS codes not listed in
// posClasses (e.g. 06 and 08, facilities that admit inpatients and
// outpatients; 26 military treatment facility; 33 custodial care; 34
// hospice; 54, 56 residential) give no setting rather than a guess.

// ClaimType is the kind of claim, as the HL7 claim-type code system
// (http://terminology.hl7.org/CodeSystem/claim-type) names them:
// institutional (UB-04 / 837I), professional (CMS-1500 / 837P), pharmacy,
// oral (dental) and vision.
type ClaimType string

const (
	ClaimTypeUnknown   ClaimType = ""
	ClaimInstitutional ClaimType = "institutional"
	ClaimProfessional  ClaimType = "professional"
	ClaimPharmacy      ClaimType = "pharmacy"
	ClaimOral          ClaimType = "oral"
	ClaimVision        ClaimType = "vision"
)

// ParseClaimType reads a claim-type code, case-insensitively.
func ParseClaimType(s string) (ClaimType, error) {
	switch t := ClaimType(strings.ToLower(strings.TrimSpace(s))); t {
	case ClaimInstitutional, ClaimProfessional, ClaimPharmacy, ClaimOral, ClaimVision, ClaimTypeUnknown:
		return t, nil
	}
	return "", fmt.Errorf("%q is not a claim type (institutional, professional, pharmacy, oral, vision)", s)
}

// InstitutionalSubtype is what an institutional claim says of itself when it
// carries no type of bill: the CARIN Blue Button subType
// (C4BBInstitutionalClaimSubType inpatient / outpatient) or the CMS Blue
// Button claim type (INPATIENT, SNF / OUTPATIENT, HHA).
type InstitutionalSubtype string

const (
	SubtypeInpatient  InstitutionalSubtype = "inpatient"
	SubtypeOutpatient InstitutionalSubtype = "outpatient"
)

// ClaimFacts are the facts a claim carries about where care was given.
// Codes are in the canonical forms NormalizeBillType and
// NormalizeRevenueCode return.
type ClaimFacts struct {
	Type            ClaimType
	Subtype         InstitutionalSubtype
	BillType        string   // type of bill without its leading zero: "111"; "11" when only facility and classification are known
	Revenue         []string // revenue codes of the claim's lines: "0450"
	POS             string   // CMS place of service of the claim (its first line that has one)
	Codes           []string // CPT/HCPCS codes of the claim's lines
	DischargeStatus string   // patient discharge status: "01", "09", "30"
}

// Setting is the setting of care a claim describes.
type Setting struct {
	// Class is the encounter class; "" when the claim says nothing that
	// decides it (the encounter is then sent without a class).
	Class EncounterClass
	// Stay: an inpatient stay, dated by its admission and discharge (the
	// episode date of a stay is its discharge).
	Stay bool
	// ViaED: the stay or observation began in the emergency department (an
	// ED revenue code on the same bill): HEDIS's "visit that results in an
	// inpatient stay", billed as the stay.
	ViaED bool
	// ResultedInStay: an outpatient or ED visit after which the patient was
	// admitted as an inpatient of the same hospital (discharge status 09),
	// billed apart from the stay.
	ResultedInStay bool
	// Interim: the bill does not end the stay (frequency 2 or 3, interim
	// first or continuing claim [TOB]; or discharge status 30, still a
	// patient [DS]), so its last date is not a discharge.
	Interim bool
	// Basis names the fact that decided, e.g. "type of bill 111".
	Basis string
}

// rank orders classes by where the patient ended up: when one claim carries
// facts for several settings the highest wins (an ED visit that becomes an
// observation stay is observation; one that becomes an admission, inpatient).
func rank(c EncounterClass) int {
	switch c {
	case Inpatient:
		return 4
	case Observation:
		return 3
	case Emergency:
		return 2
	case Ambulatory, Virtual:
		return 1
	}
	return 0
}

// ClaimSetting derives the setting of a claim. Precedence, first that
// decides:
//
//  1. A pharmacy claim is no visit: no class.
//  2. The type of bill of an institutional claim [TOB]: an inpatient bill
//     (11x, 12x, 18x, 21x, 22x, 28x, ...) is an inpatient stay, whatever its
//     lines say; an ED revenue code on it marks the stay ViaED. An outpatient
//     bill (13x, 23x, 7xx clinics, 83x, 85x, home health 3xx) is an
//     observation stay with revenue code 0762 [OBS], else an ED visit with
//     0450-0459 or 0981 [ER], else an ambulatory visit. Non-patient bills
//     (14x referenced diagnostics), hospice (81x, 82x) and unknown kinds give
//     no class.
//  3. Without a type of bill, the claim's institutional subtype (inpatient
//     or outpatient), read as in 2.
//  4. Without either, revenue codes [REV]: room and board (0100-0219) is an
//     inpatient stay; else 0762 observation; else 0450-0459 / 0981 emergency.
//  5. The place of service [POS]; an outpatient-hospital POS (19, 22) with an
//     observation or hospital-care E&M code is observation, with an ED E&M
//     code an ED visit.
//  6. E&M codes [VSAC], the highest-ranked setting among the lines.
func ClaimSetting(f ClaimFacts) Setting {
	if f.Type == ClaimPharmacy {
		return Setting{Basis: "pharmacy claim"}
	}
	var s Setting
	switch {
	case f.BillType != "":
		s = billSetting(f)
	case f.Subtype != "":
		s = institutionalSetting(f, f.Subtype == SubtypeInpatient, "institutional claim subtype "+string(f.Subtype))
	}
	if s.Class == "" && s.Basis == "" {
		s = revenueSetting(f)
	}
	if s.Class == "" && s.Basis == "" && f.POS != "" {
		s = posSetting(f)
	}
	if s.Class == "" && s.Basis == "" {
		s = emSetting(f.Codes, "")
	}
	if s.Class != "" && s.Class != Inpatient && f.DischargeStatus == "09" {
		s.ResultedInStay = true
	}
	if s.Stay && f.DischargeStatus == "30" {
		s.Interim = true
	}
	return s
}

// billSetting reads the facility type and classification digits [TOB].
func billSetting(f ClaimFacts) Setting {
	tob := f.BillType
	basis := "type of bill " + tob
	if len(tob) < 2 {
		return Setting{}
	}
	facility, class := tob[0], tob[1]
	s := Setting{Basis: basis}
	if len(tob) == 3 && (tob[2] == '2' || tob[2] == '3') {
		s.Interim = true
	}
	inpatient, outpatient := false, false
	switch facility {
	case '1', '2', '4', '5', '6': // hospital, SNF, religious nonmedical (hospital, extended care), intermediate care
		switch class {
		case '1', '2', '5', '6', '7', '8': // inpatient (Part A; Part B only), intermediate care I/II, subacute inpatient, swing bed
			inpatient = true
		case '3': // outpatient
			outpatient = true
		}
	case '3': // home health agency: visits under Part A (3) or B (2), other (4)
		switch class {
		case '2', '3', '4':
			outpatient = true
		}
	case '7': // clinics: rural health, renal dialysis, FQHC, ORF, CORF, CMHC
		outpatient = true
	case '8': // special facilities: 83 ASC in a hospital outpatient department, 84 freestanding birthing center, 85 CAH outpatient
		switch class {
		case '3', '4', '5':
			outpatient = true
		}
	}
	if !inpatient && !outpatient {
		return s // non-patient (14x), hospice (81x, 82x), or a kind no source above names
	}
	out := institutionalSetting(f, inpatient, basis)
	out.Interim = out.Interim || s.Interim
	return out
}

// institutionalSetting classes an inpatient or outpatient institutional bill.
func institutionalSetting(f ClaimFacts, inpatient bool, basis string) Setting {
	er, obs := "", ""
	for _, r := range f.Revenue {
		switch {
		case er == "" && isERRevenue(r):
			er = r
		case obs == "" && r == "0762":
			obs = r
		}
	}
	switch {
	case inpatient:
		return Setting{Class: Inpatient, Stay: true, ViaED: er != "", Basis: basis}
	case obs != "":
		return Setting{Class: Observation, ViaED: er != "", Basis: basis + ", revenue code " + obs}
	case er != "":
		return Setting{Class: Emergency, Basis: basis + ", revenue code " + er}
	}
	return Setting{Class: Ambulatory, Basis: basis}
}

// revenueSetting reads revenue codes alone [REV][ER][OBS].
func revenueSetting(f ClaimFacts) Setting {
	best := Setting{}
	for _, r := range f.Revenue {
		var s Setting
		switch {
		case r >= "0100" && r <= "0219":
			s = Setting{Class: Inpatient, Stay: true, Basis: "revenue code " + r + " (room and board)"}
		case r == "0762":
			s = Setting{Class: Observation, Basis: "revenue code " + r}
		case isERRevenue(r):
			s = Setting{Class: Emergency, Basis: "revenue code " + r}
		}
		if rank(s.Class) > rank(best.Class) {
			best = s
		}
	}
	if best.Class == Inpatient || best.Class == Observation {
		for _, r := range f.Revenue {
			best.ViaED = best.ViaED || isERRevenue(r)
		}
	}
	return best
}

func isERRevenue(r string) bool { return (r >= "0450" && r <= "0459") || r == "0981" }

// posClasses are the places of service that name a setting [POS].
var posClasses = map[string]EncounterClass{
	"02": Virtual, "10": Virtual, // telehealth other than in / in the patient's home
	"23": Emergency,                                   // emergency room, hospital
	"21": Inpatient, "51": Inpatient, "61": Inpatient, // inpatient hospital, inpatient psychiatric, comprehensive inpatient rehabilitation
	"31": Inpatient, "32": Inpatient, // skilled nursing, nursing facility: NCQA's Nonacute Inpatient [VSAC 1084] holds the nursing facility E&M codes
	// Places of outpatient visits: school, homeless shelter, IHS and tribal
	// free-standing facilities (for patients "who do not require
	// hospitalization"), prison, office, home, assisted living, group home,
	// mobile unit, temporary lodging, walk-in retail clinic, worksite,
	// outpatient hospital off and on campus, urgent care, ASC, birthing
	// center, independent clinic, FQHC, CMHC, non-residential substance use
	// and opioid treatment, mass immunization, CORF, ESRD facility, public
	// health clinic, rural health clinic.
	"03": Ambulatory, "04": Ambulatory, "05": Ambulatory, "07": Ambulatory, "09": Ambulatory,
	"11": Ambulatory, "12": Ambulatory, "13": Ambulatory, "14": Ambulatory, "15": Ambulatory,
	"16": Ambulatory, "17": Ambulatory, "18": Ambulatory, "19": Ambulatory, "20": Ambulatory,
	"22": Ambulatory, "24": Ambulatory, "25": Ambulatory, "49": Ambulatory, "50": Ambulatory,
	"53": Ambulatory, "57": Ambulatory, "58": Ambulatory, "60": Ambulatory, "62": Ambulatory,
	"65": Ambulatory, "71": Ambulatory, "72": Ambulatory,
}

// posSetting reads the place of service, refined by E&M codes where the
// place is an outpatient hospital department.
func posSetting(f ClaimFacts) Setting {
	class, ok := posClasses[f.POS]
	if !ok {
		return Setting{Basis: "place of service " + f.POS + " (no setting)"}
	}
	if f.POS == "19" || f.POS == "22" {
		if em := emSetting(f.Codes, f.POS); em.Class == Observation || em.Class == Emergency {
			return em
		}
	}
	return Setting{Class: class, Basis: "place of service " + f.POS}
}

// emRange is a range of CPT/HCPCS evaluation and management codes.
type emRange struct {
	from, to string
	class    EncounterClass
}

// emRanges are E&M codes that name a setting [VSAC].
var emRanges = []emRange{
	{"99281", "99285", Emergency},   // ED 1085
	{"99217", "99220", Observation}, // Observation 1086
	{"99224", "99226", Observation}, // subsequent observation care, 2011-2022: not sourced (see above)
	{"99221", "99223", Inpatient},   // Acute Inpatient 1083 (since 2023 "hospital inpatient or observation care")
	{"99231", "99236", Inpatient},
	{"99238", "99239", Inpatient},
	{"99251", "99255", Inpatient},
	{"99291", "99291", Inpatient},
	{"99304", "99310", Inpatient}, // Nonacute Inpatient 1084: nursing facility, domiciliary
	{"99315", "99316", Inpatient},
	{"99318", "99318", Inpatient},
	{"99324", "99328", Inpatient},
	{"99334", "99337", Inpatient},
	{"99201", "99205", Ambulatory}, // Outpatient 1087
	{"99211", "99215", Ambulatory},
	{"99241", "99245", Ambulatory},
	{"99341", "99345", Ambulatory},
	{"99347", "99350", Ambulatory},
	{"99381", "99387", Ambulatory},
	{"99391", "99397", Ambulatory},
	{"99401", "99404", Ambulatory},
	{"99411", "99412", Ambulatory},
	{"99429", "99429", Ambulatory},
	{"99455", "99456", Ambulatory},
	{"99483", "99483", Ambulatory},
	{"G0402", "G0402", Ambulatory},
	{"G0438", "G0439", Ambulatory},
	{"G0463", "G0463", Ambulatory},
	{"T1015", "T1015", Ambulatory},
}

// emSetting returns the highest-ranked setting the codes name. With an
// outpatient-hospital POS, hospital-care codes (which since CPT 2023 report
// inpatient or observation care) are observation: the place says outpatient.
func emSetting(codes []string, pos string) Setting {
	best := Setting{}
	for _, c := range codes {
		for _, r := range emRanges {
			if len(c) != len(r.from) || c < r.from || c > r.to {
				continue
			}
			class := r.class
			if pos != "" && class == Inpatient && c >= "99221" && c <= "99239" {
				class = Observation
			}
			if rank(class) > rank(best.Class) {
				best = Setting{Class: class, Basis: "CPT " + c}
				if pos != "" {
					best.Basis = "place of service " + pos + ", CPT " + c
				}
			}
		}
	}
	return best
}

// StayDates returns an encounter's start, end and discharge date from a
// claim's own dates: for an inpatient stay the admission date (when given)
// is the start and the discharge date the end and the discharge, unless the
// bill is interim (then there is no discharge yet). Dates are passed as
// written; ingest validates them.
func (s Setting) StayDates(start, end, admission, discharge string) (string, string, string) {
	if !s.Stay {
		return start, end, ""
	}
	if admission != "" {
		start = admission
	}
	if discharge != "" {
		end = discharge
	}
	if s.Interim {
		return start, end, ""
	}
	return start, end, discharge
}

// NormalizeBillType validates a NUBC type of bill and returns it without
// its leading zero: three characters, facility type (1-9), classification
// (0-9) and frequency (a digit or letter) [TOB]. Claims systems write it
// with three characters or four with a leading zero ("0111").
func NormalizeBillType(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if len(c) == 4 && c[0] == '0' {
		c = c[1:]
	}
	bad := fmt.Errorf("%q is not a type of bill (3 characters such as 111, or 4 with a leading zero such as 0111)", s)
	if len(c) != 3 || c[0] < '1' || c[0] > '9' || c[1] < '0' || c[1] > '9' {
		return "", bad
	}
	if f := c[2]; (f < '0' || f > '9') && (f < 'A' || f > 'Z') {
		return "", bad
	}
	return c, nil
}

// NormalizeRevenueCode validates a NUBC revenue code and returns its four
// digits; the three-digit form many extracts write ("450") gets its
// leading zero back [REV].
func NormalizeRevenueCode(s string) (string, error) {
	c := strings.TrimSpace(s)
	if (len(c) != 3 && len(c) != 4) || strings.Trim(c, "0123456789") != "" {
		return "", fmt.Errorf("%q is not a revenue code (4 digits such as 0450)", s)
	}
	if len(c) == 3 {
		c = "0" + c
	}
	return c, nil
}

// NormalizeDischargeStatus validates a two-digit NUBC patient discharge
// status; a single digit gets its leading zero ("1" is 01) [DS].
func NormalizeDischargeStatus(s string) (string, error) {
	c := strings.TrimSpace(s)
	if len(c) == 1 {
		c = "0" + c
	}
	if len(c) != 2 || strings.Trim(c, "0123456789") != "" {
		return "", fmt.Errorf("%q is not a patient discharge status (2 digits such as 01 or 30)", s)
	}
	return c, nil
}
