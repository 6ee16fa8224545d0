package qrda3

import "github.com/liaison-registry/liaison/internal/validate/finding"

// Rule severities follow one policy: an error is something CMS's receiving
// systems reject or a number that is wrong; a warning is a conformance point
// only the CMS schematron enforces and CMS's own conversion tool (and its
// published samples) accept. §-references are to shared/reference/formats.md.

// Rules lists every rule this package reports, for documentation.
var Rules finding.Rules

var (
	rYearUnknown     = Rules.New("qrda3.year.unknown", finding.Error, "No performance year: none given and no reporting-parameters act with a readable start date (§1.5).")
	rYearUnsupported = Rules.New("qrda3.year.unsupported", finding.Error, "No QRDA III rules for that performance year: it is before the first CMS guide (PY2017, §1.2).")
	rYearProvisional = Rules.New("qrda3.year.provisional_guide", finding.Warning, "No CMS QRDA III guide for that performance year in Liaison's sources (newest: PY2026); the newest guide is applied.")
	rYearNoMeasures  = Rules.New("qrda3.year.no_measures", finding.Warning, "No CMS measure data for that performance year (Liaison has 2017–2027, rules.Years), so eCQM versions are not checked against it.")

	rHeaderCardinality = Rules.New("qrda3.header.cardinality", finding.Error, "A header element required exactly once (or at least once) is missing or repeated (§1.1).")
	rHeaderValue       = Rules.New("qrda3.header.value", finding.Error, "A header element has the wrong fixed value: realmCode US, typeId, code 55184-6, confidentialityCode N, languageCode en, recordTarget id nullFlavor NA, author, custodian id (§1.1).")
	rLegalAuth         = Rules.New("qrda3.header.legal_authenticator", finding.Warning, "No legalAuthenticator (SHOULD, a-4484-17225).")

	rTemplateMissing = Rules.New("qrda3.template.missing", finding.Error, "A required templateId is missing or repeated: document 27.1.1 and 27.1.2 exactly once; measure section 24.2.2, 27.2.1 and 27.2.3 (CT code 5/95, §1.2).")
	rTemplateExt     = Rules.New("qrda3.template.extension", finding.Error, "The document (27.1.2) or measure-section (27.2.1, 27.2.3) templateId extension is not one the performance year's guide allows; both 2025 guide versions (2024-07-01, 2024-12-01) are accepted (§1.2).")
	rTemplateExtIG   = Rules.New("qrda3.template.extension_ig", finding.Warning, "Another templateId (27.1.1, measure entries, reporting parameters) carries an extension other than the year's guide; the CMS schematron rejects it, CMS's conversion tool matches these by root only (§1.2).")

	rProgramMissing   = Rules.New("qrda3.program.missing", finding.Error, "No CMS program name: informationRecipient/intendedRecipient/id root 2.16.840.1.113883.3.249.7 with an extension (CT code 24, §1.3).")
	rProgramDuplicate = Rules.New("qrda3.program.duplicate", finding.Error, "More than one CMS program name (CT code 25, CMS_7..11).")
	rProgramUnknown   = Rules.New("qrda3.program.unknown", finding.Error, "The program name is not in the year's value set 2.16.840.1.113883.3.249.14.101 (CT code 25, §1.3).")

	rPerformerCount    = Rules.New("qrda3.performer.count", finding.Error, "The program requires exactly one documentationOf/serviceEvent/performer (a-5562-18171_C01, §1.4).")
	rPerformerCountApp = Rules.New("qrda3.performer.count_app", finding.Warning, "APP reporting with more than one performer: the schematron allows one, CMS's conversion tool accepts an extra APM-entity performer as in its own APP samples (§1.4).")
	rPerformerTIN      = Rules.New("qrda3.performer.tin", finding.Error, "The program's TIN rule is broken: individual and group reporting need exactly one TIN; APM-entity reporting none (§1.4).")
	rPerformerNPI      = Rules.New("qrda3.performer.npi", finding.Error, "The program's NPI rule is broken: individual reporting needs exactly one NPI; group, virtual-group and APM-entity reporting none (§1.4).")
	rPerformerGroupNPI = Rules.New("qrda3.performer.group_npi", finding.Warning, "Group reporting without the NPI id nullFlavor=\"NA\" the schematron asks for (a-5562-18177_C01-MIPSGROUP-NPI-format); CMS's samples omit it.")
	rPerformerID       = Rules.New("qrda3.performer.identifier", finding.Error, "A performer carries no identifier at all (no TIN, NPI or entity id with a value) (§1.4).")
	rPerformerEntity   = Rules.New("qrda3.performer.entity", finding.Error, "Virtual-group, APM-entity or subgroup reporting without exactly one id of that kind (CMS_83/109/114, CT code 78).")

	rIDNull     = Rules.New("qrda3.id.null_flavor", finding.Error, "A TIN or NPI id has both or neither of @extension and @nullFlavor (CMS_0118, CMS_0120).")
	rTINFormat  = Rules.New("qrda3.tin.format", finding.Error, "A TIN is not 9 decimal digits (CMS_0119).")
	rTINTest    = Rules.New("qrda3.tin.test", finding.Warning, "A TIN beginning with 000 is a pre-production test TIN (CT sample-files/README.md).")
	rNPIFormat  = Rules.New("qrda3.npi.format", finding.Error, "An NPI is not 10 decimal digits (CMS_0115, CMS_0116).")
	rNPICheck   = Rules.New("qrda3.npi.check_digit", finding.Error, "An NPI fails the Luhn check digit computed over 80840 + its first 9 digits (CMS_0117).")
	rCEHRT      = Rules.New("qrda3.cehrt.format", finding.Error, "A CEHRT id (root 2.16.840.1.113883.3.2074.1) is not 15 characters (a-CMS_88..91).")
	rCEHRTNeeds = Rules.New("qrda3.cehrt.missing", finding.Error, "A Promoting Interoperability section without a CEHRT id participant (Cypress ehr_certification_id_validator).")

	rSectionMissing   = Rules.New("qrda3.section.missing", finding.Error, "No measure, IA or PI section in component/structuredBody (CT code 23, a-5562-21394_C01).")
	rSectionDuplicate = Rules.New("qrda3.section.duplicate", finding.Error, "More than one measure, IA or PI section (CT codes 26/27/28).")

	rRPMissing   = Rules.New("qrda3.reporting.missing", finding.Error, "A section has no Reporting Parameters Act (17.3.8) (CT codes 32/44, a-4484-21467).")
	rRPDuplicate = Rules.New("qrda3.reporting.duplicate", finding.Error, "A section has more than one Reporting Parameters Act (CT code 32).")
	rRPStart     = Rules.New("qrda3.reporting.start", finding.Error, "The reporting period has no effectiveTime/low/@value (CT code 29).")
	rRPEnd       = Rules.New("qrda3.reporting.end", finding.Error, "The reporting period has no effectiveTime/high/@value (CT code 30).")
	rRPFormat    = Rules.New("qrda3.reporting.format", finding.Error, "A reporting-period bound is not a date precise to the day (yyyyMMdd[HHmm[ss]][±zzzz]) (CT code 69, a-4484-26553..26556).")
	rRPOrder     = Rules.New("qrda3.reporting.order", finding.Error, "The reporting period starts after it ends.")
	rRPYear      = Rules.New("qrda3.reporting.year", finding.Warning, "A reporting-period bound lies outside the performance year. Neither the CMS schematron nor CMS's conversion tool compares them, and CMS's own samples differ (2020 MIPS group: IA section 2019; 2025 subgroup: measure section 2023).")

	rMeasureMissing   = Rules.New("qrda3.measure.missing", finding.Error, "The measure section has no Measure Reference and Results entry (27.3.1) (CT code 81).")
	rMeasureGUID      = Rules.New("qrda3.measure.guid", finding.Error, "A measure entry lacks exactly one reference/externalDocument/id root 2.16.840.1.113883.4.738 with the eCQM version GUID as @extension (CT code 70, a-4484-17890).")
	rMeasureGUIDDup   = Rules.New("qrda3.measure.guid_duplicate", finding.Error, "Two measure entries carry the same eCQM GUID (CT code 71).")
	rMeasureVersion   = Rules.New("qrda3.measure.version", finding.Error, "The eCQM GUID is a version Liaison's measure catalogue assigns to another performance year (CT code 6).")
	rMeasureNoData    = Rules.New("qrda3.measure.data_missing", finding.Error, "A measure entry has no Measure Data (27.3.5) (CT code 7).")
	rPopCode          = Rules.New("qrda3.population.code", finding.Error, "A Measure Data value is not one population code (IPOP, IPP, DENOM, NUMER, DENEX, DENEXCEP, NUMEX, MSRPOPL, MSRPOPLEX, OBSERV) (CT code 58).")
	rPopUUID          = Rules.New("qrda3.population.uuid_missing", finding.Error, "A Measure Data or stratum lacks exactly one reference/externalObservation/id/@root (CT code 57, a-3259-18239).")
	rPopIncomplete    = Rules.New("qrda3.population.incomplete", finding.Error, "A proportion measure lacks IPOP, DENOM or NUMER, or a population its catalogued version defines (CT code 14).")
	rPopUUIDMismatch  = Rules.New("qrda3.population.uuid", finding.Error, "A population UUID differs from the one the catalogued measure version defines (CT code 59).")
	rCountMissing     = Rules.New("qrda3.count.missing", finding.Error, "A population, stratum or supplemental-data entry lacks exactly one SUBJ Aggregate Count (27.3.3) (CT codes 52/8, a-3259-17619).")
	rCountInteger     = Rules.New("qrda3.count.integer", finding.Error, "An Aggregate Count value is not an xsi:type INT integer (CT codes 9/53).")
	rCountNegative    = Rules.New("qrda3.count.negative", finding.Error, "An Aggregate Count is negative (CT code 53).")
	rCountDenominator = Rules.New("qrda3.count.denominator", finding.Error, "DENOM exceeds IPOP, overall or in a stratum (CT code 13).")
	rCountNumerator   = Rules.New("qrda3.count.numerator", finding.Error, "NUMER + DENEX + DENEXCEP exceeds DENOM, overall or in a stratum (Cypress cat3_population_validator, §1.6).")
	rStratumExceeds   = Rules.New("qrda3.stratum.exceeds_population", finding.Warning, "A reporting stratum's count exceeds its population's count. No CMS rule checks strata counts (the schematron has none; Cypress compares only whole populations), and CMS's samples break it (2025 MIPS group, CMS159).")
	rStratumCounts    = Rules.New("qrda3.stratum.counts", finding.Warning, "In one reporting stratum DENOM exceeds IPOP, or NUMER + DENEX + DENEXCEP exceeds DENOM. A warning for the reason above: CMS's samples since 2019 (CMS159 stratum: 810 > 800) break it.")

	rRateMissing   = Rules.New("qrda3.rate.missing", finding.Error, "A performance rate has neither a value nor nullFlavor=\"NA\" (CT code 72).")
	rRateValue     = Rules.New("qrda3.rate.value", finding.Error, "A performance rate is not an xsi:type REAL number in [0, 1] (CT code 33, CMS_62).")
	rRatePrecision = Rules.New("qrda3.rate.precision", finding.Error, "A performance rate has more than 6 decimal places (CMS_63).")
	rRateReference = Rules.New("qrda3.rate.reference", finding.Error, "A performance rate does not reference the NUMER population's UUID of its measure (CT code 61, a-4484-19658).")
	rRateMismatch  = Rules.New("qrda3.rate.mismatch", finding.Error, "A performance rate differs from NUMER / (DENOM − DENEX − DENEXCEP) by more than its written rounding (half a unit of its last decimal, at least 0.000001; cqm-validators performance_rate_validator).")
	rRateNA        = Rules.New("qrda3.rate.na", finding.Error, "nullFlavor=\"NA\" is used while DENOM − DENEX − DENEXCEP > 0, or a value while it is 0 (§1.6).")

	rSDEMissing = Rules.New("qrda3.sde.missing", finding.Error, "A population lacks a sex, ethnicity, race or payer supplemental-data category (a-4427-18136/18139/18140/18141_C01).")
	rSDECode    = Rules.New("qrda3.sde.code_missing", finding.Warning, "A supplemental-data code of the value set is not reported (report 0 counts too; Cypress verify_all_codes_reported). A warning: CMS's schematrons require each category, not each code, and CMS's 2017 sample omits zero-count race codes.")
	rSDEUnknown = Rules.New("qrda3.sde.code_unknown", finding.Error, "A supplemental-data code is not in its value set (§1.5).")
	rSDEDupCode = Rules.New("qrda3.sde.code_duplicate", finding.Error, "A supplemental-data code is reported twice for one population.")
)
