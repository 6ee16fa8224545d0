// Package rules holds the per-year facts the validators check against, as
// data: QRDA III template versions and CMS program names (qrda3.json, cited
// to the shared formats reference) and the MIPS quality measures Liaison
// knows (measures.json, generated from CMS's qpp-measures-data extract).
package rules

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
)

//go:generate go run ./gen -ref ../../../../shared/reference/qpp-measures -out measures.json

//go:embed qrda3.json
var qrda3JSON []byte

//go:embed measures.json
var measuresJSON []byte

// Guide is one CMS QRDA III implementation guide version: the templateId
// extension it requires for each template root.
type Guide struct {
	Name      string            `json:"name"`
	Templates map[string]string `json:"templates"`
}

type qrda3Year struct {
	Guides   []Guide  `json:"guides"`
	Programs []string `json:"programs"`
}

type qrda3Data struct {
	TemplateNames    map[string]string        `json:"templateNames"`
	Years            map[string]qrda3Year     `json:"years"`
	SupplementalData []SDECategory            `json:"supplementalData"`
	Performers       map[string]PerformerRule `json:"performers"`
}

// Measure is one MIPS quality measure in one performance year.
type Measure struct {
	ID                string   `json:"id"`
	MetricType        string   `json:"metricType"`
	SubmissionMethods []string `json:"submissionMethods"`
	IsRegistryMeasure bool     `json:"isRegistryMeasure"`
	// Strata are the stratum names (multi-rate measures name each stratum).
	Strata []string `json:"strata,omitempty"`
	// EMeasureUUID is the eCQM version GUID (QRDA III measure reference), and
	// Populations its population UUIDs by kind (IPOP, DENOM, NUMER, DENEX, DENEXCEP, NUMEX).
	EMeasureUUID string            `json:"eMeasureUuid,omitempty"`
	Populations  map[string]string `json:"populations,omitempty"`
}

type catalogue struct {
	Source string               `json:"_source"`
	Years  map[string][]Measure `json:"years"`
}

var (
	q3       qrda3Data
	measures catalogue
)

func init() {
	if err := json.Unmarshal(qrda3JSON, &q3); err != nil {
		panic("rules: qrda3.json: " + err.Error())
	}
	if err := json.Unmarshal(measuresJSON, &measures); err != nil {
		panic("rules: measures.json: " + err.Error())
	}
}

// Years lists the performance years the validators know: the years of CMS's
// measure data (measures.json). It is the one source of truth; every format's
// per-year rules cover each of these years (rules_test checks it).
func Years() []int { return MeasureYears() }

// HasMeasureData reports whether year is one of Years.
func HasMeasureData(year int) bool { return slices.Contains(Years(), year) }

// QRDA3Guides returns the implementation guides accepted for a performance
// year (two for 2023 and 2025: v1.0 and v1.1), or nil when the year is before
// the first guide. A year after the newest published guide gets the newest
// guide, with provisional set: CMS publishes each year's guide late in the
// year before, so files for the next year are checked against the last one.
func QRDA3Guides(year int) (guides []Guide, provisional bool) {
	if g := q3.Years[strconv.Itoa(year)].Guides; g != nil {
		return g, false
	}
	ys := QRDA3Years()
	if last := ys[len(ys)-1]; year > last {
		return q3.Years[strconv.Itoa(last)].Guides, true
	}
	return nil, false
}

// QRDA3Years lists the performance years with a published QRDA III guide.
func QRDA3Years() []int { return sortedYears(q3.Years) }

// QRDA3YearOf returns the performance year whose published guides alone use
// ext as the QRDA III Report - CMS (27.1.2) templateId extension, or 0 when
// no year or several years (2023 and 2024 share 2022-12-01) do.
func QRDA3YearOf(ext string) int {
	found := 0
	for _, y := range QRDA3Years() {
		for _, g := range q3.Years[strconv.Itoa(y)].Guides {
			if g.Templates["2.16.840.1.113883.10.20.27.1.2"] == ext {
				if found != 0 && found != y {
					return 0
				}
				found = y
			}
		}
	}
	return found
}

// sortedYears returns a year-keyed map's years in order.
func sortedYears[V any](m map[string]V) []int {
	var ys []int
	for y := range m {
		n, _ := strconv.Atoi(y)
		ys = append(ys, n)
	}
	sort.Ints(ys)
	return ys
}

// TemplateName is a template root's human name, for messages.
func TemplateName(root string) string {
	if n, ok := q3.TemplateNames[root]; ok {
		return n
	}
	return root
}

// Programs returns the CMS program names allowed in a year's QRDA III
// informationRecipient. Years without their own list use the next later
// year's list (see qrda3.json _source).
func Programs(year int) []string {
	for _, y := range QRDA3Years() {
		if y >= year {
			if p := q3.Years[strconv.Itoa(y)].Programs; p != nil {
				return p
			}
		}
	}
	return nil
}

// MeasureYears lists the performance years the catalogue covers.
func MeasureYears() []int { return sortedYears(measures.Years) }

// LookupMeasure finds a measure by id in a year.
func LookupMeasure(year int, id string) (Measure, bool) {
	for _, m := range measures.Years[strconv.Itoa(year)] {
		if m.ID == id {
			return m, true
		}
	}
	return Measure{}, false
}

// KnownMeasureID reports whether the catalogue has id in any year, and which
// years: an id we know but not in the requested year is an error, an id we
// never carried can only be a warning (the catalogue is Liaison's measures,
// not every MIPS measure).
func KnownMeasureID(id string) []int {
	var ys []int
	for _, y := range MeasureYears() {
		if _, ok := LookupMeasure(y, id); ok {
			ys = append(ys, y)
		}
	}
	return ys
}

// MeasureByEMeasureUUID finds the measure version with an eCQM GUID, in any year.
func MeasureByEMeasureUUID(guid string) (Measure, int, bool) {
	for _, y := range MeasureYears() {
		for _, m := range measures.Years[strconv.Itoa(y)] {
			if m.EMeasureUUID != "" && equalFoldASCII(m.EMeasureUUID, guid) {
				return m, y, true
			}
		}
	}
	return Measure{}, 0, false
}

func equalFoldASCII(a, b string) bool {
	return len(a) == len(b) && bytes.EqualFold([]byte(a), []byte(b))
}

// SubmissionMethods is the measures-data `methods` enum (CMSgov/qpp-measures-data
// measures-schema.yaml, shared reference qpp-measures/measures-schema-2024.yaml).
var SubmissionMethods = []string{"administrativeClaims", "claims", "certifiedSurveyVendor", "cmsWebInterface", "electronicHealthRecord", "registry"}

// AllowsMethod reports whether m may be submitted with method.
func (m Measure) AllowsMethod(method string) bool {
	return slices.Contains(m.SubmissionMethods, method)
}

// source measure object, as in measures-data.json.
type sourceMeasure struct {
	MeasureID         string   `json:"measureId"`
	MetricType        string   `json:"metricType"`
	SubmissionMethods []string `json:"submissionMethods"`
	IsRegistryMeasure bool     `json:"isRegistryMeasure"`
	EMeasureUUID      string   `json:"eMeasureUuid"`
	Strata            []struct {
		Name          string            `json:"name"`
		EMeasureUuids map[string]string `json:"eMeasureUuids"`
	} `json:"strata"`
}

var measureFile = regexp.MustCompile(`^measures-(\d{4})\.json$`)

// populationKinds maps measures-data UUID keys to QRDA population codes.
var populationKinds = map[string]string{
	"initialPopulationUuid":    "IPOP",
	"denominatorUuid":          "DENOM",
	"numeratorUuid":            "NUMER",
	"denominatorExclusionUuid": "DENEX",
	"denominatorExceptionUuid": "DENEXCEP",
	"numeratorExclusionUuid":   "NUMEX",
}

// BuildCatalogue reads measures-YYYY.json files from ref and renders measures.json.
func BuildCatalogue(ref fs.FS) ([]byte, error) {
	names, err := fs.Glob(ref, "measures-*.json")
	if err != nil {
		return nil, err
	}
	out := catalogue{
		Source: "generated by internal/validate/rules/gen from shared/reference/qpp-measures/measures-YYYY.json (CMSgov/qpp-measures-data measures/YYYY/measures-data.json at 100b25f9ac65); do not edit",
		Years:  map[string][]Measure{},
	}
	for _, name := range names {
		m := measureFile.FindStringSubmatch(path.Base(name))
		if m == nil {
			continue
		}
		raw, err := fs.ReadFile(ref, name)
		if err != nil {
			return nil, err
		}
		var src []sourceMeasure
		if err := json.Unmarshal(raw, &src); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		var ms []Measure
		for _, s := range src {
			me := Measure{ID: s.MeasureID, MetricType: s.MetricType, SubmissionMethods: s.SubmissionMethods,
				IsRegistryMeasure: s.IsRegistryMeasure, EMeasureUUID: s.EMeasureUUID}
			for _, st := range s.Strata {
				if st.Name != "" {
					me.Strata = append(me.Strata, st.Name)
				}
				if s.EMeasureUUID != "" && len(s.Strata) == 1 {
					me.Populations = map[string]string{}
					for k, v := range st.EMeasureUuids {
						if kind, ok := populationKinds[k]; ok {
							me.Populations[kind] = v
						}
					}
				}
			}
			ms = append(ms, me)
		}
		sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
		out.Years[m[1]] = ms
	}
	if len(out.Years) == 0 {
		return nil, fmt.Errorf("no measures-YYYY.json files found")
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// SDECategory is one supplemental-data category of a QRDA III population:
// its template root and every code its value set holds.
type SDECategory struct {
	Name     string   `json:"name"`
	Template string   `json:"template"`
	Codes    []string `json:"codes"`
}

// PerformerRule says which identifiers a program's performers carry.
// Cardinalities: "one" exactly one, "none" absent, "null" present with
// nullFlavor only (group NPI), "" not checked.
type PerformerRule struct {
	Performers string `json:"performers"` // "one", or "one_app" (one expected, more only warned)
	TIN        string `json:"tin"`
	NPI        string `json:"npi"`
	Entity     string `json:"entity"` // id root of the virtual group / APM entity / subgroup id
}

// SupplementalData lists the SDE categories every QRDA III population reports.
func SupplementalData() []SDECategory { return q3.SupplementalData }

// Performers returns the performer rule for a QRDA III program name.
func Performers(program string) (PerformerRule, bool) {
	r, ok := q3.Performers[program]
	return r, ok
}

//go:embed qpp.json
var qppJSON []byte

// QPPEra is the set of QPP Submissions API enums valid for a range of years.
type QPPEra struct {
	From        int      `json:"from"`
	To          int      `json:"to"`
	Categories  []string `json:"categories"`
	EntityTypes []string `json:"entityTypes"`
}

type qppData struct {
	Eras                      []QPPEra `json:"eras"`
	ProgramNames              []string `json:"programNames"`
	MVPIDPattern              string   `json:"mvpIdPattern"`
	RegistryExclusionZeroFrom int      `json:"registryExclusionZeroFrom"`
}

var (
	qpp   qppData
	mvpID *regexp.Regexp
)

func init() {
	if err := json.Unmarshal(qppJSON, &qpp); err != nil {
		panic("rules: qpp.json: " + err.Error())
	}
	mvpID = regexp.MustCompile(qpp.MVPIDPattern)
}

// QPP returns the Submissions API enums for a performance year; ok is false
// for a year before the API's first (2017), which gets the first era's.
func QPP(year int) (era QPPEra, ok bool) {
	for _, e := range qpp.Eras {
		if year >= e.From && year <= e.To {
			return e, true
		}
	}
	return qpp.Eras[0], false
}

// QPPProgramName reports whether name is a measurement-set programName: a
// CMS program or an MVP id.
func QPPProgramName(name string) bool {
	return slices.Contains(qpp.ProgramNames, name) || mvpID.MatchString(name)
}

// QPPProgramNames lists the fixed programName values, for messages.
func QPPProgramNames() []string { return qpp.ProgramNames }

// RegistryExclusionMustBeZero reports whether, in year, a registry
// submission of a MIPS (non-QCDR) measure must send eligiblePopulationExclusion 0 or null.
func RegistryExclusionMustBeZero(year int) bool { return year >= qpp.RegistryExclusionZeroFrom }
