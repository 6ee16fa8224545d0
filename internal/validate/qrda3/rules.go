package qrda3

import "github.com/liaison-registry/liaison/internal/validate/finding"

// Rule severities follow one policy: an error is something CMS's receiving
// systems reject or a number that is wrong; a warning is a conformance point
// only the CMS schematron enforces and CMS's own conversion tool (and its
// published samples) accept. §-references are to shared/reference/formats.md.

// Rules lists every rule this package reports, for documentation.
var Rules finding.Rules

const (
	E = finding.Error
	W = finding.Warning
)

var (
	rYearUnknown     = Rules.New("qrda3.year.unknown", E, "No performance year: none given and no reporting-parameters act with a readable start date (§1.5).")
	rYearUnsupported = Rules.New("qrda3.year.unsupported", E, "No QRDA III rules for that performance year (covered: 2018–2026, §1.2).")

	rHeaderCardinality = Rules.New("qrda3.header.cardinality", E, "A header element required exactly once (or at least once) is missing or repeated (§1.1).")
	rHeaderValue       = Rules.New("qrda3.header.value", E, "A header element has the wrong fixed value: realmCode US, typeId, code 55184-6, confidentialityCode N, languageCode en, recordTarget id nullFlavor NA, author, custodian id (§1.1).")
	rLegalAuth         = Rules.New("qrda3.header.legal_authenticator", W, "No legalAuthenticator (SHOULD, a-4484-17225).")

	rTemplateMissing = Rules.New("qrda3.template.missing", E, "A required templateId is missing or repeated: document 27.1.1 and 27.1.2 exactly once; measure section 24.2.2, 27.2.1 and 27.2.3 (CT code 5/95, §1.2).")
	rTemplateExt     = Rules.New("qrda3.template.extension", E, "The document (27.1.2) or measure-section (27.2.1, 27.2.3) templateId extension is not one the performance year's guide allows; both 2025 guide versions (2024-07-01, 2024-12-01) are accepted (§1.2).")
	rTemplateExtIG   = Rules.New("qrda3.template.extension_ig", W, "Another templateId (27.1.1, measure entries, reporting parameters) carries an extension other than the year's guide; the CMS schematron rejects it, CMS's conversion tool matches these by root only (§1.2).")

	rProgramMissing   = Rules.New("qrda3.program.missing", E, "No CMS program name: informationRecipient/intendedRecipient/id root 2.16.840.1.113883.3.249.7 with an extension (CT code 24, §1.3).")
	rProgramDuplicate = Rules.New("qrda3.program.duplicate", E, "More than one CMS program name (CT code 25, CMS_7..11).")
	rProgramUnknown   = Rules.New("qrda3.program.unknown", E, "The program name is not in the year's value set 2.16.840.1.113883.3.249.14.101 (CT code 25, §1.3).")

	rPerformerCount    = Rules.New("qrda3.performer.count", E, "The program requires exactly one documentationOf/serviceEvent/performer (a-5562-18171_C01, §1.4).")
	rPerformerCountApp = Rules.New("qrda3.performer.count_app", W, "APP reporting with more than one performer: the schematron allows one, CMS's conversion tool accepts an extra APM-entity performer as in its own APP samples (§1.4).")
	rPerformerTIN      = Rules.New("qrda3.performer.tin", E, "The program's TIN rule is broken: individual and group reporting need exactly one TIN; APM-entity reporting none (§1.4).")
	rPerformerNPI      = Rules.New("qrda3.performer.npi", E, "The program's NPI rule is broken: individual reporting needs exactly one NPI; group, virtual-group and APM-entity reporting none (§1.4).")
	rPerformerGroupNPI = Rules.New("qrda3.performer.group_npi", W, "Group reporting without the NPI id nullFlavor=\"NA\" the schematron asks for (a-5562-18177_C01-MIPSGROUP-NPI-format); CMS's samples omit it.")
	rPerformerID       = Rules.New("qrda3.performer.identifier", E, "A performer carries no identifier at all (no TIN, NPI or entity id with a value) (§1.4).")
	rPerformerEntity   = Rules.New("qrda3.performer.entity", E, "Virtual-group, APM-entity or subgroup reporting without exactly one id of that kind (CMS_83/109/114, CT code 78).")

	rIDNull     = Rules.New("qrda3.id.null_flavor", E, "A TIN or NPI id has both or neither of @extension and @nullFlavor (CMS_0118, CMS_0120).")
	rTINFormat  = Rules.New("qrda3.tin.format", E, "A TIN is not 9 decimal digits (CMS_0119).")
	rTINTest    = Rules.New("qrda3.tin.test", W, "A TIN beginning with 000 is a pre-production test TIN (CT sample-files/README.md).")
	rNPIFormat  = Rules.New("qrda3.npi.format", E, "An NPI is not 10 decimal digits (CMS_0115, CMS_0116).")
	rNPICheck   = Rules.New("qrda3.npi.check_digit", E, "An NPI fails the Luhn check digit computed over 80840 + its first 9 digits (CMS_0117).")
	rCEHRT      = Rules.New("qrda3.cehrt.format", E, "A CEHRT id (root 2.16.840.1.113883.3.2074.1) is not 15 characters (a-CMS_88..91).")
	rCEHRTNeeds = Rules.New("qrda3.cehrt.missing", E, "A Promoting Interoperability section without a CEHRT id participant (Cypress ehr_certification_id_validator).")

	rSectionMissing   = Rules.New("qrda3.section.missing", E, "No measure, IA or PI section in component/structuredBody (CT code 23, a-5562-21394_C01).")
	rSectionDuplicate = Rules.New("qrda3.section.duplicate", E, "More than one measure, IA or PI section (CT codes 26/27/28).")

	rRPMissing   = Rules.New("qrda3.reporting.missing", E, "A section has no Reporting Parameters Act (17.3.8) (CT codes 32/44, a-4484-21467).")
	rRPDuplicate = Rules.New("qrda3.reporting.duplicate", E, "A section has more than one Reporting Parameters Act (CT code 32).")
	rRPStart     = Rules.New("qrda3.reporting.start", E, "The reporting period has no effectiveTime/low/@value (CT code 29).")
	rRPEnd       = Rules.New("qrda3.reporting.end", E, "The reporting period has no effectiveTime/high/@value (CT code 30).")
	rRPFormat    = Rules.New("qrda3.reporting.format", E, "A reporting-period bound is not a date precise to the day (yyyyMMdd[HHmm[ss]][±zzzz]) (CT code 69, a-4484-26553..26556).")
	rRPOrder     = Rules.New("qrda3.reporting.order", E, "The reporting period starts after it ends.")
	rRPYear      = Rules.New("qrda3.reporting.year", E, "A reporting-period bound lies outside the performance year (CT code 31 checks only the start year).")

	rMeasureMissing   = Rules.New("qrda3.measure.missing", E, "The measure section has no Measure Reference and Results entry (27.3.1) (CT code 81).")
	rMeasureGUID      = Rules.New("qrda3.measure.guid", E, "A measure entry lacks exactly one reference/externalDocument/id root 2.16.840.1.113883.4.738 with the eCQM version GUID as @extension (CT code 70, a-4484-17890).")
	rMeasureGUIDDup   = Rules.New("qrda3.measure.guid_duplicate", E, "Two measure entries carry the same eCQM GUID (CT code 71).")
	rMeasureVersion   = Rules.New("qrda3.measure.version", E, "The eCQM GUID is a version Liaison's measure catalogue assigns to another performance year (CT code 6).")
	rMeasureNoData    = Rules.New("qrda3.measure.data_missing", E, "A measure entry has no Measure Data (27.3.5) (CT code 7).")
	rPopCode          = Rules.New("qrda3.population.code", E, "A Measure Data value is not one population code (IPOP, IPP, DENOM, NUMER, DENEX, DENEXCEP, NUMEX, MSRPOPL, MSRPOPLEX, OBSERV) (CT code 58).")
	rPopUUID          = Rules.New("qrda3.population.uuid_missing", E, "A Measure Data or stratum lacks exactly one reference/externalObservation/id/@root (CT code 57, a-3259-18239).")
	rPopIncomplete    = Rules.New("qrda3.population.incomplete", E, "A proportion measure lacks IPOP, DENOM or NUMER, or a population its catalogued version defines (CT code 14).")
	rPopUUIDMismatch  = Rules.New("qrda3.population.uuid", E, "A population UUID differs from the one the catalogued measure version defines (CT code 59).")
	rCountMissing     = Rules.New("qrda3.count.missing", E, "A population, stratum or supplemental-data entry lacks exactly one SUBJ Aggregate Count (27.3.3) (CT codes 52/8, a-3259-17619).")
	rCountInteger     = Rules.New("qrda3.count.integer", E, "An Aggregate Count value is not an xsi:type INT integer (CT codes 9/53).")
	rCountNegative    = Rules.New("qrda3.count.negative", E, "An Aggregate Count is negative (CT code 53).")
	rCountDenominator = Rules.New("qrda3.count.denominator", E, "DENOM exceeds IPOP, overall or in a stratum (CT code 13).")
	rCountNumerator   = Rules.New("qrda3.count.numerator", E, "NUMER + DENEX + DENEXCEP exceeds DENOM, overall or in a stratum (Cypress cat3_population_validator, §1.6).")
	rStratumExceeds   = Rules.New("qrda3.stratum.exceeds_population", E, "A reporting stratum's count exceeds its population's count (§6 E-STR-1).")

	rRateMissing   = Rules.New("qrda3.rate.missing", E, "A performance rate has neither a value nor nullFlavor=\"NA\" (CT code 72).")
	rRateValue     = Rules.New("qrda3.rate.value", E, "A performance rate is not an xsi:type REAL number in [0, 1] (CT code 33, CMS_62).")
	rRatePrecision = Rules.New("qrda3.rate.precision", E, "A performance rate has more than 6 decimal places (CMS_63).")
	rRateReference = Rules.New("qrda3.rate.reference", E, "A performance rate does not reference the NUMER population's UUID of its measure (CT code 61, a-4484-19658).")
	rRateMismatch  = Rules.New("qrda3.rate.mismatch", E, "A performance rate differs from NUMER / (DENOM − DENEX − DENEXCEP) by more than 0.000001 (cqm-validators performance_rate_validator).")
	rRateNA        = Rules.New("qrda3.rate.na", E, "nullFlavor=\"NA\" is used while DENOM − DENEX − DENEXCEP > 0, or a value while it is 0 (§1.6).")

	rSDEMissing = Rules.New("qrda3.sde.missing", E, "A population lacks a sex, ethnicity, race or payer supplemental-data category (a-4427-18136/18139/18140/18141_C01).")
	rSDECode    = Rules.New("qrda3.sde.code_missing", E, "A supplemental-data code of the value set is not reported (report 0 counts too; Cypress verify_all_codes_reported).")
	rSDEUnknown = Rules.New("qrda3.sde.code_unknown", E, "A supplemental-data code is not in its value set (§1.5).")
	rSDEDupCode = Rules.New("qrda3.sde.code_duplicate", E, "A supplemental-data code is reported twice for one population.")
	rSDESum     = Rules.New("qrda3.sde.sum", E, "A supplemental-data category's counts do not add up to the population's count.")
)
