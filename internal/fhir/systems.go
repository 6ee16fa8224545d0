package fhir

import (
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// codeSystems maps the FHIR code system URIs (and OIDs) Liaison reads to its
// system names. docs/fhir-mapping.md lists them.
var codeSystems = map[string]clinical.System{
	"http://hl7.org/fhir/sid/icd-10-cm":                        clinical.ICD10CM,
	"urn:oid:2.16.840.1.113883.6.90":                           clinical.ICD10CM,
	"http://hl7.org/fhir/sid/icd-9-cm":                         clinical.ICD9CM,
	"urn:oid:2.16.840.1.113883.6.103":                          clinical.ICD9CM,
	"http://snomed.info/sct":                                   clinical.SNOMEDCT,
	"urn:oid:2.16.840.1.113883.6.96":                           clinical.SNOMEDCT,
	"http://www.ama-assn.org/go/cpt":                           clinical.CPT,
	"urn:oid:2.16.840.1.113883.6.12":                           clinical.CPT,
	"https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets": clinical.HCPCS,
	"http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets":  clinical.HCPCS,
	"https://bluebutton.cms.gov/resources/codesystem/hcpcs":    clinical.HCPCS,
	"urn:oid:2.16.840.1.113883.6.285":                          clinical.HCPCS,
	"urn:oid:2.16.840.1.113883.6.14":                           clinical.HCPCS,
	"http://www.cms.gov/Medicare/Coding/ICD10":                 clinical.ICD10PCS,
	"urn:oid:2.16.840.1.113883.6.4":                            clinical.ICD10PCS,
	"http://www.nlm.nih.gov/research/umls/rxnorm":              clinical.RxNorm,
	"urn:oid:2.16.840.1.113883.6.88":                           clinical.RxNorm,
	"http://hl7.org/fhir/sid/ndc":                              clinical.NDC,
	"urn:oid:2.16.840.1.113883.6.69":                           clinical.NDC,
	"http://loinc.org":                                         clinical.LOINC,
	"urn:oid:2.16.840.1.113883.6.1":                            clinical.LOINC,
}

// systemOf maps a coding's system to a Liaison system; Liaison's own names
// ("CPT", "ICD10CM") are accepted too.
func systemOf(uri string) (clinical.System, bool) {
	if s, ok := codeSystems[uri]; ok {
		return s, true
	}
	if !strings.Contains(uri, ":") {
		if s, err := clinical.ParseSystem(uri); err == nil {
			return s, true
		}
	}
	return "", false
}

const (
	npiSystem     = "http://hl7.org/fhir/sid/us-npi"
	npiOID        = "urn:oid:2.16.840.1.113883.4.6"
	raceURL       = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
	ethnicityURL  = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"
	posSystem     = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
	posSystemHTTP = "http://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
	posBlueButton = "https://bluebutton.cms.gov/resources/variables/line_place_of_srvc_cd"
	// The standard extension for a resource's IANA time zone.
	timeZoneURL = "http://hl7.org/fhir/StructureDefinition/timezone"
	// Liaison's extension for an encounter's place of service, for exports
	// with no Location to carry it (liaison synth --format fhir writes it).
	posExtensionURL = "https://liaison-registry.github.io/fhir/StructureDefinition/place-of-service"
	nuccSystem      = "http://nucc.org/provider-taxonomy"
	// HL7 v3 NullFlavor: US Core race and ethnicity use UNK and ASKU from it.
	nullFlavorSystem = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
)

func isTINIdentifier(id identifier) bool {
	if id.System == "urn:oid:2.16.840.1.113883.4.4" || id.System == "urn:oid:2.16.840.1.113883.4.2" {
		return true
	}
	if id.Type != nil {
		for _, c := range id.Type.Coding {
			if c.Code == "TAX" {
				return true
			}
		}
	}
	return false
}

func isNPIIdentifier(id identifier) bool { return id.System == npiSystem || id.System == npiOID }

func isPOSSystem(s string) bool { return s == posSystem || s == posSystemHTTP || s == posBlueButton }

// tinOf returns the TIN among identifiers, without the hyphen EINs are often
// written with (12-3456789); Convert checks the result.
func tinOf(ids []identifier) string {
	for _, id := range ids {
		if isTINIdentifier(id) && id.Value != "" {
			return strings.NewReplacer("-", "", " ", "").Replace(id.Value)
		}
	}
	return ""
}

func npiOf(ids []identifier) string {
	for _, id := range ids {
		if isNPIIdentifier(id) && id.Value != "" {
			return strings.TrimSpace(id.Value)
		}
	}
	return ""
}

// posOf returns the CMS place-of-service code among a concept's codings.
func posOf(cs []concept) string {
	for _, c := range cs {
		for _, cd := range c.Coding {
			if isPOSSystem(cd.System) {
				return cd.Code
			}
		}
	}
	return ""
}
