package qrda3

import (
	"fmt"
	"strings"

	"github.com/liaison-registry/liaison/internal/validate/rules"
)

// A compact QRDA III generator for rule tests: valid for PY2025 (IG v1.1)
// by default, one measure, every population with complete supplemental data
// whose counts add up. Each test changes one thing.

type measureSpec struct {
	guid   string
	counts map[string]int64 // by population code, in the order of kinds
	rate   string           // "" = computed from the counts, "NA" = nullFlavor, else literal
}

var kinds = []string{"IPOP", "DENOM", "NUMER", "DENEX", "DENEXCEP"}

func popUUID(guid, kind string) string { return guid[:8] + "-" + kind }

type docSpec struct {
	program   string
	performer string
	low, high string
	reportCMS string
	measures  []measureSpec
}

func defaultSpec() docSpec {
	return docSpec{
		program:   "MIPS_INDIV",
		performer: `<assignedEntity><id root="2.16.840.1.113883.4.6" extension="1234567893"/><representedOrganization><id root="2.16.840.1.113883.4.2" extension="123456789"/></representedOrganization></assignedEntity>`,
		low:       "20250101", high: "20251231",
		reportCMS: "2024-12-01",
		measures: []measureSpec{{guid: "2c928083-8907-ce68-0189-2bc5fa0d0739",
			counts: map[string]int64{"IPOP": 100, "DENOM": 90, "NUMER": 60, "DENEX": 5, "DENEXCEP": 5}}},
	}
}

func (d docSpec) build() string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<realmCode code="US"/>
<typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
<templateId root="2.16.840.1.113883.10.20.27.1.1" extension="2020-12-01"/>
`)
	fmt.Fprintf(&b, `<templateId root="2.16.840.1.113883.10.20.27.1.2" extension="%s"/>
<id root="26a42253-99f5-48e7-9274-b467c6c7f623"/>
<code code="55184-6" codeSystem="2.16.840.1.113883.6.1"/>
<title>QRDA III</title>
<effectiveTime value="20260115101010"/>
<confidentialityCode codeSystem="2.16.840.1.113883.5.25" code="N"/>
<languageCode code="en"/>
<recordTarget><patientRole><id nullFlavor="NA"/></patientRole></recordTarget>
<author><time value="20260115"/><assignedAuthor><id root="1.2.3"/><assignedAuthoringDevice><softwareName>Liaison</softwareName></assignedAuthoringDevice><representedOrganization><name>Registry</name></representedOrganization></assignedAuthor></author>
<custodian><assignedCustodian><representedCustodianOrganization><id root="1.2.3" extension="1"/></representedCustodianOrganization></assignedCustodian></custodian>
<informationRecipient><intendedRecipient><id root="2.16.840.1.113883.3.249.7" extension="%s"/></intendedRecipient></informationRecipient>
<legalAuthenticator><time value="20260115"/><signatureCode code="S"/><assignedEntity><id root="1.2.3"/></assignedEntity></legalAuthenticator>
<documentationOf><serviceEvent classCode="PCPR"><performer typeCode="PRF">%s</performer></serviceEvent></documentationOf>
<component><structuredBody><component><section>
<templateId root="2.16.840.1.113883.10.20.24.2.2"/>
<templateId root="2.16.840.1.113883.10.20.27.2.1" extension="2020-12-01"/>
<templateId root="2.16.840.1.113883.10.20.27.2.3" extension="2022-05-01"/>
<code code="55186-1" codeSystem="2.16.840.1.113883.6.1"/><title>Measure Section</title>
`, d.reportCMS, d.program, d.performer)
	for _, m := range d.measures {
		m.write(&b)
	}
	fmt.Fprintf(&b, `<entry typeCode="DRIV"><act classCode="ACT" moodCode="EVN">
<templateId root="2.16.840.1.113883.10.20.17.3.8" extension="2020-12-01"/><id root="1.2.3.4"/>
<code code="252116004" codeSystem="2.16.840.1.113883.6.96"/>
<effectiveTime><low value="%s"/><high value="%s"/></effectiveTime></act></entry>
</section></component></structuredBody></component>
</ClinicalDocument>
`, d.low, d.high)
	return b.String()
}

func aggregate(n int64) string {
	return fmt.Sprintf(`<entryRelationship typeCode="SUBJ" inversionInd="true"><observation classCode="OBS" moodCode="EVN"><templateId root="2.16.840.1.113883.10.20.27.3.3"/><code code="MSRAGG" codeSystem="2.16.840.1.113883.5.4"/><value xsi:type="INT" value="%d"/><methodCode code="COUNT" codeSystem="2.16.840.1.113883.5.84"/></observation></entryRelationship>`, n)
}

func (m measureSpec) write(b *strings.Builder) {
	fmt.Fprintf(b, `<entry><organizer classCode="CLUSTER" moodCode="EVN">
<templateId root="2.16.840.1.113883.10.20.24.3.98"/>
<templateId root="2.16.840.1.113883.10.20.27.3.1" extension="2020-12-01"/>
<templateId root="2.16.840.1.113883.10.20.27.3.17" extension="2022-05-01"/>
<id root="1.2.3.5"/><statusCode code="completed"/>
<reference typeCode="REFR"><externalDocument classCode="DOC" moodCode="EVN"><id root="2.16.840.1.113883.4.738" extension="%s"/></externalDocument></reference>
`, m.guid)
	rate := m.rate
	if rate == "" {
		pd := m.counts["DENOM"] - m.counts["DENEX"] - m.counts["DENEXCEP"]
		rate = fmt.Sprintf("%.6f", float64(m.counts["NUMER"])/float64(pd))
	}
	value := fmt.Sprintf(`<value xsi:type="REAL" value="%s"/>`, rate)
	if rate == "NA" {
		value = `<value xsi:type="REAL" nullFlavor="NA"/>`
	}
	fmt.Fprintf(b, `<component><observation classCode="OBS" moodCode="EVN">
<templateId root="2.16.840.1.113883.10.20.27.3.14" extension="2020-12-01"/>
<templateId root="2.16.840.1.113883.10.20.27.3.25" extension="2022-05-01"/>
<code code="72510-1" codeSystem="2.16.840.1.113883.6.1"/>%s
<reference typeCode="REFR"><externalObservation classCode="OBS" moodCode="EVN"><id root="%s"/></externalObservation></reference>
</observation></component>
`, value, popUUID(m.guid, "NUMER"))
	for _, k := range kinds {
		n, ok := m.counts[k]
		if !ok {
			continue
		}
		fmt.Fprintf(b, `<component><observation classCode="OBS" moodCode="EVN">
<templateId root="2.16.840.1.113883.10.20.27.3.5" extension="2016-09-01"/>
<templateId root="2.16.840.1.113883.10.20.27.3.16" extension="2019-05-01"/>
<code code="ASSERTION" codeSystem="2.16.840.1.113883.5.4"/>
<value xsi:type="CD" code="%s" codeSystem="2.16.840.1.113883.5.4"/>
%s
`, k, aggregate(n))
		for _, cat := range rules.SupplementalData() {
			for i, code := range cat.Codes {
				// Everyone in the first code, except sex: split M/F.
				c := int64(0)
				switch {
				case cat.Name == "sex" && i == 0:
					c = n / 2
				case cat.Name == "sex":
					c = n - n/2
				case i == 0:
					c = n
				}
				val := fmt.Sprintf(`<value xsi:type="CD" code="%s"/>`, code)
				if cat.Name == "payer" {
					val = fmt.Sprintf(`<value xsi:type="CD" nullFlavor="OTH"><translation code="%s" codeSystem="2.16.840.1.113883.3.249.12"/></value>`, code)
				}
				fmt.Fprintf(b, `<entryRelationship typeCode="COMP"><observation classCode="OBS" moodCode="EVN"><templateId root="%s" extension="2016-09-01"/>%s%s</observation></entryRelationship>
`, cat.Template, val, aggregate(c))
			}
		}
		fmt.Fprintf(b, `<reference typeCode="REFR"><externalObservation classCode="OBS" moodCode="EVN"><id root="%s"/></externalObservation></reference>
</observation></component>
`, popUUID(m.guid, k))
	}
	b.WriteString("</organizer></entry>\n")
}
