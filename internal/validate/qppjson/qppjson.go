// Package qppjson checks a CMS QPP Submissions API document: a submission
// (entity + measurementSets) or a registry's measurement set (with its
// nested submission), against the rules of its performance year. Locations
// are JSON pointers (RFC 6901).
package qppjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/liaison-registry/liaison/internal/validate/finding"
	"github.com/liaison-registry/liaison/internal/validate/ident"
	"github.com/liaison-registry/liaison/internal/validate/rules"
)

// Rules lists every rule this package reports, for documentation.
var Rules finding.Rules

// §-references are to shared/reference/formats.md.
var (
	rRoot            = Rules.New("qppjson.root", finding.Error, "The document is not a JSON object.")
	rMissing         = Rules.New("qppjson.field.missing", finding.Error, "A required field is absent or null (§3.1).")
	rType            = Rules.New("qppjson.field.type", finding.Error, "A field has the wrong JSON type, e.g. performanceYear not an integer (§3.1).")
	rEnum            = Rules.New("qppjson.field.enum", finding.Error, "A field's value is not one the year allows: entityType, category, submissionMethod, programName (§3.1, §3.4).")
	rYearMismatch    = Rules.New("qppjson.year.mismatch", finding.Error, "performanceYear differs from the year asked to validate against.")
	rYearUnsupported = Rules.New("qppjson.year.unsupported", finding.Error, "A performance year before the Submissions API's first, 2017 (CMSgov/qpp-submissions-schema, §3.4).")
	rYearNoMeasures  = Rules.New("qppjson.year.no_measures", finding.Warning, "No CMS measure data for that performance year (Liaison has 2017–2027, rules.Years), so measure ids are not checked.")
	rDate            = Rules.New("qppjson.date.format", finding.Error, "performanceStart/End is not an RFC 3339 full-date (YYYY-MM-DD) (§3.1).")
	rDateYear        = Rules.New("qppjson.date.year", finding.Error, "performanceStart/End lies outside the performance year.")
	rDateOrder       = Rules.New("qppjson.date.order", finding.Error, "performanceStart is after performanceEnd.")
	rDatePartial     = Rules.New("qppjson.date.partial", finding.Warning, "A quality measurement set covers less than the full calendar year.")
	rTINFormat       = Rules.New("qppjson.tin.format", finding.Error, "taxpayerIdentificationNumber is not 9 digits (§3.1).")
	rTINTest         = Rules.New("qppjson.tin.test", finding.Warning, "A TIN beginning with 000 is a test TIN (qpp-submissions-docs test scenarios).")
	rNPIFormat       = Rules.New("qppjson.npi.format", finding.Error, "nationalProviderIdentifier is not 10 digits (§3.1).")
	rNPICheck        = Rules.New("qppjson.npi.check_digit", finding.Error, "nationalProviderIdentifier fails the Luhn check digit over 80840 + its first 9 digits.")
	rNPIUnexpected   = Rules.New("qppjson.npi.unexpected", finding.Error, "nationalProviderIdentifier on a non-individual submission (individual only, §3.1).")
	rEntityID        = Rules.New("qppjson.entity_id.missing", finding.Error, "entityId is required for apm, virtualGroup and subgroup submissions (§3.1).")
	rCEHRT           = Rules.New("qppjson.cehrt.format", finding.Error, "cehrtId is not 15 characters (§3.1).")
	rNoMeasurements  = Rules.New("qppjson.measurements.empty", finding.Warning, "A measurement set has no measurements.")
	rMeasureUnknown  = Rules.New("qppjson.measure.unknown", finding.Warning, "measureId is not in Liaison's measure catalogue (MIPS 418, 024, 039, 472), so its existence and methods are not checked.")
	rMeasureYear     = Rules.New("qppjson.measure.year", finding.Error, "measureId is a catalogued measure that does not exist in that performance year (qpp-measures-data).")
	rMeasureMethod   = Rules.New("qppjson.measure.method", finding.Error, "The measure does not allow the measurement set's submissionMethod in that year (qpp-measures-data submissionMethods).")
	rMeasureCategory = Rules.New("qppjson.measure.category", finding.Error, "A catalogued quality measure is in a measurement set whose category is not quality.")
	rMeasureDup      = Rules.New("qppjson.measure.duplicate", finding.Error, "The same measureId appears twice in one measurement set.")
	rCount           = Rules.New("qppjson.count.type", finding.Error, "A count is not a non-negative integer (§3.1).")
	rCountMet        = Rules.New("qppjson.count.met", finding.Error, "performanceMet exceeds eligiblePopulation (§3.1).")
	rCountSum        = Rules.New("qppjson.count.sum", finding.Error, "performanceMet + performanceNotMet + eligiblePopulationExclusion + eligiblePopulationException exceeds eligiblePopulation (reportingRate above 100%, §3.1).")
	rRegistryExcl    = Rules.New("qppjson.registry.exclusion", finding.Error, "Registry submission of a MIPS (non-QCDR) measure with eligiblePopulationExclusion other than 0/null; subtract excluded patients from eligiblePopulation instead (change log 8/15/20, §3.3).")
	rRate            = Rules.New("qppjson.rate.range", finding.Error, "performanceRate is not a number from 0 to 100 (change log 12/29/21, §3.3).")
	rStrata          = Rules.New("qppjson.strata", finding.Error, "Multi-rate measure strata missing, unnamed, duplicated or not the measure's stratum names (change log 10/05/2022, §3.3).")
	rProportion      = Rules.New("qppjson.proportion", finding.Error, "A proportion has numerator > denominator, or denominator 0 with numerator > 0 (§3.1).")
)

// Parse decodes a JSON document, keeping numbers exact. Trailing data after
// the document is an error.
func Parse(data []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("data after the JSON document")
	}
	return v, nil
}

// unwrap takes a submission out of the Submissions API's answer envelope,
// {"data":{"submission":{…}}} (qpp-submissions-docs@485527ca
// src/app/components/references/json/scoring-example-submission-input.json),
// returning it with its JSON pointer. The docs show no list envelope
// ({"data":{"submissions":[…]}}); other data members (measurementSet,
// measurement, score) are answers about part of a submission.
func unwrap(v any) (any, string) {
	if o, ok := v.(map[string]any); ok && len(o) == 1 {
		if d, ok := o["data"].(map[string]any); ok && len(d) == 1 {
			if s, ok := d["submission"].(map[string]any); ok {
				return s, "/data/submission"
			}
		}
	}
	return v, ""
}

// IsSubmission reports whether v looks like a submission or a measurement
// set, bare or in the API's answer envelope.
func IsSubmission(v any) bool {
	v, _ = unwrap(v)
	o, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for _, k := range []string{"performanceYear", "measurementSets", "measurements", "entityType"} {
		if _, ok := o[k]; ok {
			return true
		}
	}
	return false
}

var ids = ident.Rules{TINFormat: rTINFormat, TINTest: rTINTest, NPIFormat: rNPIFormat, NPICheck: rNPICheck}

type checker struct {
	f    finding.List
	year int
}

// Check validates v (for which IsSubmission is true) against year (0: the
// document's performanceYear). It returns the year checked against.
func Check(v any, year int) (int, finding.List) {
	c := &checker{year: year}
	v, base := unwrap(v)
	root, ok := v.(map[string]any)
	if !ok {
		c.f.Add(rRoot, "", "the document must be a JSON object")
		return year, c.f
	}
	if _, isSet := root["measurements"]; isSet {
		// A registry's measurement set: the entity is nested under "submission".
		sub, _ := root["submission"].(map[string]any)
		if sub == nil {
			c.f.Add(rMissing, ptr(base, "submission"), "a measurement set needs its submission object (entityType, taxpayerIdentificationNumber, performanceYear)")
		} else {
			c.entity(sub, ptr(base, "submission"))
		}
		c.measurementSet(root, base)
		return c.year, c.f
	}
	c.entity(root, base)
	sets, _ := c.objects(root, base, "measurementSets", "a measurement set")
	for _, s := range sets {
		c.measurementSet(s.obj, s.at)
	}
	return c.year, c.f
}

func ptr(base, key string) string {
	key = strings.ReplaceAll(strings.ReplaceAll(key, "~", "~0"), "/", "~1")
	return base + "/" + key
}

func (c *checker) present(o map[string]any, base, key string, required bool) (any, bool) {
	v, ok := o[key]
	if !ok || v == nil {
		if required {
			c.f.Add(rMissing, ptr(base, key), "%s is required", key)
		}
		return nil, false
	}
	return v, true
}

func (c *checker) str(o map[string]any, base, key string, required bool) (string, bool) {
	v, ok := c.present(o, base, key, required)
	if !ok {
		return "", false
	}
	s, ok := v.(string)
	if !ok {
		c.f.Add(rType, ptr(base, key), "%s must be a string; found %s", key, jsonType(v))
	}
	return s, ok
}

func (c *checker) array(o map[string]any, base, key string, required bool) ([]any, bool) {
	v, ok := c.present(o, base, key, required)
	if !ok {
		return nil, false
	}
	a, ok := v.([]any)
	if !ok {
		c.f.Add(rType, ptr(base, key), "%s must be an array; found %s", key, jsonType(v))
	}
	return a, ok
}

// element is one object of an array, with its JSON pointer.
type element struct {
	at  string
	obj map[string]any
}

// objects returns the objects of array o[key], reporting a missing or
// mistyped array and elements that are not objects (named what).
func (c *checker) objects(o map[string]any, base, key, what string) ([]element, bool) {
	a, ok := c.array(o, base, key, true)
	if !ok {
		return nil, false
	}
	var out []element
	for i, v := range a {
		at := ptr(base, key) + "/" + strconv.Itoa(i)
		if obj, ok := v.(map[string]any); ok {
			out = append(out, element{at, obj})
		} else {
			c.f.Add(rType, at, "%s must be an object; found %s", what, jsonType(v))
		}
	}
	return out, true
}

func (c *checker) boolean(o map[string]any, base, key string, required bool) {
	if v, ok := c.present(o, base, key, required); ok {
		if _, ok := v.(bool); !ok {
			c.f.Add(rType, ptr(base, key), "%s must be true or false; found %s", key, jsonType(v))
		}
	}
}

// count reads a non-negative integer; absent or null gives 0.
func (c *checker) count(o map[string]any, base, key string, required bool) (int64, bool) {
	v, ok := c.present(o, base, key, required)
	if !ok {
		return 0, !required
	}
	n, isNum := v.(json.Number)
	i, err := strconv.ParseInt(string(n), 10, 64)
	if !isNum || err != nil || i < 0 {
		c.f.Add(rCount, ptr(base, key), "%s must be a non-negative integer; found %s", key, show(v))
		return 0, false
	}
	return i, true
}

func (c *checker) number(o map[string]any, base, key string, required bool) (float64, bool) {
	v, ok := c.present(o, base, key, required)
	if !ok {
		return 0, false
	}
	n, isNum := v.(json.Number)
	f, err := n.Float64()
	if !isNum || err != nil {
		c.f.Add(rType, ptr(base, key), "%s must be a number; found %s", key, show(v))
		return 0, false
	}
	return f, true
}

func (c *checker) enum(o map[string]any, base, key string, required bool, allowed []string) (string, bool) {
	s, ok := c.str(o, base, key, required)
	if ok && !slices.Contains(allowed, s) {
		c.f.Add(rEnum, ptr(base, key), "%s %q is not allowed for performance year %d; use one of %s", key, s, c.year, strings.Join(allowed, ", "))
		return s, false
	}
	return s, ok
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return "null"
}

func show(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	b := bytes.TrimSpace(buf.Bytes())
	if len(b) > 60 {
		b = append(b[:57], "..."...)
	}
	return string(b)
}

func (c *checker) entity(o map[string]any, base string) {
	// The year first: every enum depends on it.
	if v, ok := c.present(o, base, "performanceYear", true); ok {
		n, isNum := v.(json.Number)
		y, err := strconv.Atoi(string(n))
		switch {
		case !isNum || err != nil:
			c.f.Add(rType, ptr(base, "performanceYear"), "performanceYear must be an integer year such as 2025; found %s", show(v))
		case c.year != 0 && y != c.year:
			c.f.Add(rYearMismatch, ptr(base, "performanceYear"), "performanceYear is %d but the file is being validated for %d", y, c.year)
		default:
			c.year = y
		}
	}
	era, known := rules.QPP(c.year)
	if ys := rules.Years(); c.year != 0 && !rules.HasMeasureData(c.year) {
		if !known {
			c.f.Add(rYearUnsupported, ptr(base, "performanceYear"), "performance year %d is before the QPP Submissions API's first, %d", c.year, era.From)
		}
		c.f.Add(rYearNoMeasures, ptr(base, "performanceYear"), "no CMS measure data for performance year %d (Liaison has %d–%d); measure ids are not checked", c.year, ys[0], ys[len(ys)-1])
	}
	et, _ := c.enum(o, base, "entityType", true, era.EntityTypes)
	if tin, ok := c.str(o, base, "taxpayerIdentificationNumber", et == "individual" || et == "group"); ok {
		ids.TIN(&c.f, ptr(base, "taxpayerIdentificationNumber"), tin)
	}
	if npi, ok := c.str(o, base, "nationalProviderIdentifier", et == "individual"); ok {
		if et != "" && et != "individual" {
			c.f.Add(rNPIUnexpected, ptr(base, "nationalProviderIdentifier"), "a %s submission carries no NPI; remove nationalProviderIdentifier", et)
		} else {
			ids.NPI(&c.f, ptr(base, "nationalProviderIdentifier"), npi)
		}
	}
	if et == "apm" || et == "virtualGroup" || et == "subgroup" {
		c.str(o, base, "entityId", false)
		if s, _ := o["entityId"].(string); s == "" {
			c.f.Add(rEntityID, ptr(base, "entityId"), "a %s submission needs its entityId", et)
		}
	}
}

func (c *checker) date(o map[string]any, base, key string) (time.Time, bool) {
	s, ok := c.str(o, base, key, true)
	if !ok {
		return time.Time{}, false
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		c.f.Add(rDate, ptr(base, key), "%s %q is not a date YYYY-MM-DD", key, s)
		return time.Time{}, false
	}
	if c.year != 0 && d.Year() != c.year {
		c.f.Add(rDateYear, ptr(base, key), "%s %s is outside performance year %d", key, s, c.year)
	}
	return d, true
}

func (c *checker) measurementSet(o map[string]any, base string) {
	era, _ := rules.QPP(c.year)
	cat, _ := c.enum(o, base, "category", true, era.Categories)
	method, methodOK := c.enum(o, base, "submissionMethod", true, rules.SubmissionMethods)
	start, ok1 := c.date(o, base, "performanceStart")
	end, ok2 := c.date(o, base, "performanceEnd")
	if ok1 && ok2 {
		switch {
		case start.After(end):
			c.f.Add(rDateOrder, ptr(base, "performanceStart"), "performanceStart %s is after performanceEnd %s", start.Format(time.DateOnly), end.Format(time.DateOnly))
		case cat == "quality" && (start.YearDay() != 1 || end.Month() != 12 || end.Day() != 31):
			c.f.Add(rDatePartial, ptr(base, "performanceEnd"), "quality data cover %s to %s, not the whole calendar year", start.Format(time.DateOnly), end.Format(time.DateOnly))
		}
	}
	if p, ok := c.str(o, base, "programName", false); ok && !rules.QPPProgramName(p) {
		c.f.Add(rEnum, ptr(base, "programName"), "programName %q is not %s or an MVP id (G followed by 4 digits)", p, strings.Join(rules.QPPProgramNames(), ", "))
	}
	if id, ok := c.str(o, base, "cehrtId", false); ok && len(id) != 15 {
		c.f.Add(rCEHRT, ptr(base, "cehrtId"), "cehrtId %q must be 15 characters (e.g. 0015C1234567890)", id)
	}
	ms, ok := c.objects(o, base, "measurements", "a measurement")
	if ok && len(ms) == 0 {
		c.f.Add(rNoMeasurements, ptr(base, "measurements"), "the measurement set has no measurements")
	}
	seen := map[string]bool{}
	for _, m := range ms {
		p, mo := m.at, m.obj
		id, _ := c.str(mo, p, "measureId", true)
		if id != "" && seen[id] {
			c.f.Add(rMeasureDup, ptr(p, "measureId"), "measure %s appears twice in this measurement set", id)
		}
		seen[id] = true
		v, ok := c.present(mo, p, "value", true)
		if !ok {
			continue
		}
		c.measurement(id, v, p, cat, method, methodOK)
	}
}

// mipsID: MIPS quality measure ids are numbers ("001", "418"); QCDR measure
// ids carry letters ("QMM19", "ACRAD15") (formats.md §3.1, §4.2).
var mipsID = regexp.MustCompile(`^[0-9]{3}$`)

// measurement checks measurement mp: its measure id against the catalogue, then its value.
func (c *checker) measurement(id string, v any, mp, category, method string, methodOK bool) {
	p, at := ptr(mp, "value"), ptr(mp, "measureId")
	metric := ""
	registryMeasure := !mipsID.MatchString(id)
	if id != "" && rules.HasMeasureData(c.year) {
		if m, ok := rules.LookupMeasure(c.year, id); ok {
			metric, registryMeasure = m.MetricType, m.IsRegistryMeasure
			if category != "" && category != "quality" {
				c.f.Add(rMeasureCategory, at, "measure %s is a quality measure; it belongs in a measurement set with category quality", id)
			} else if methodOK && !m.AllowsMethod(method) {
				c.f.Add(rMeasureMethod, at, "measure %s cannot be submitted by %s in %d; it allows %s", id, method, c.year, strings.Join(m.SubmissionMethods, ", "))
			}
			c.value(v, p, metric, method, registryMeasure, m.Strata)
			return
		}
		if ys := rules.KnownMeasureID(id); len(ys) > 0 {
			c.f.Add(rMeasureYear, at, "measure %s does not exist in performance year %d (it exists in %s)", id, c.year, yearList(ys))
		} else if category == "quality" {
			c.f.Add(rMeasureUnknown, at, "measure %s is not in Liaison's catalogue; its existence and submission methods for %d were not checked", id, c.year)
		}
	}
	c.value(v, p, metric, method, registryMeasure, nil)
}

func yearList(ys []int) string {
	if len(ys) > 1 && ys[len(ys)-1]-ys[0] == len(ys)-1 {
		return fmt.Sprintf("%d–%d", ys[0], ys[len(ys)-1])
	}
	s := make([]string, len(ys))
	for i, y := range ys {
		s[i] = strconv.Itoa(y)
	}
	return strings.Join(s, ", ")
}

// value checks a measurement value by its metric type, or by its shape when
// the measure is not catalogued.
func (c *checker) value(v any, p, metric, method string, registryMeasure bool, strata []string) {
	o, isObj := v.(map[string]any)
	if metric == "" {
		switch {
		case !isObj:
			metric = "boolean"
		case o["strata"] != nil:
			metric = "multiPerformanceRate"
		case o["performanceMet"] != nil || o["eligiblePopulation"] != nil:
			metric = "singlePerformanceRate"
		case o["observationInstances"] != nil:
			metric = "nonProportion"
		case o["numerator"] != nil || o["denominator"] != nil:
			metric = "proportion"
		}
	}
	if metric == "boolean" {
		if _, ok := v.(bool); !ok {
			c.f.Add(rType, p, "the value must be true or false; found %s", jsonType(v))
		}
		return
	}
	if !isObj {
		c.f.Add(rType, p, "the value must be an object for a %s measure; found %s", metric, jsonType(v))
		return
	}
	registry := strings.HasPrefix(metric, "registry")
	switch metric {
	case "singlePerformanceRate", "registrySinglePerformanceRate":
		c.boolean(o, p, "isEndToEndReported", true)
		c.rateCounts(o, p, method, registryMeasure)
		c.rate(o, p, registry) // writable and required for QCDR types; range-checked whenever sent
	case "multiPerformanceRate", "registryMultiPerformanceRate":
		c.boolean(o, p, "isEndToEndReported", true)
		c.strata(o, p, method, registryMeasure, strata)
	case "proportion":
		num, ok1 := c.count(o, p, "numerator", true)
		den, ok2 := c.count(o, p, "denominator", true)
		if ok1 && ok2 && (num > den) {
			c.f.Add(rProportion, ptr(p, "numerator"), "numerator %d exceeds denominator %d", num, den)
		}
	case "nonProportion":
		c.number(o, p, "numerator", true)
		c.number(o, p, "denominator", true)
	}
}

func (c *checker) rate(o map[string]any, p string, required bool) {
	if r, ok := c.number(o, p, "performanceRate", required); ok && (r < 0 || r > 100 || math.IsNaN(r)) {
		c.f.Add(rRate, ptr(p, "performanceRate"), "performanceRate %v must be from 0 to 100", r)
	}
}

// rateCounts checks one performance rate's counts (a single-rate value or a stratum).
func (c *checker) rateCounts(o map[string]any, p, method string, registryMeasure bool) {
	met, okMet := c.count(o, p, "performanceMet", true)
	elig, okElig := c.count(o, p, "eligiblePopulation", true)
	notMet, ok1 := c.count(o, p, "performanceNotMet", false)
	excl, ok2 := c.count(o, p, "eligiblePopulationExclusion", false)
	excep, ok3 := c.count(o, p, "eligiblePopulationException", false)
	if okMet && okElig && met > elig {
		c.f.Add(rCountMet, ptr(p, "performanceMet"), "performanceMet %d exceeds eligiblePopulation %d", met, elig)
	}
	if okMet && okElig && ok1 && ok2 && ok3 && met+notMet+excl+excep > elig {
		c.f.Add(rCountSum, ptr(p, "eligiblePopulation"), "performanceMet %d + performanceNotMet %d + eligiblePopulationExclusion %d + eligiblePopulationException %d = %d exceeds eligiblePopulation %d",
			met, notMet, excl, excep, met+notMet+excl+excep, elig)
	}
	if ok2 && excl > 0 && method == "registry" && !registryMeasure && rules.RegistryExclusionMustBeZero(c.year) {
		c.f.Add(rRegistryExcl, ptr(p, "eligiblePopulationExclusion"), "registry submissions of MIPS measures send eligiblePopulationExclusion 0 or null; remove the %d excluded patients from eligiblePopulation instead", excl)
	}
}

func (c *checker) strata(o map[string]any, p, method string, registryMeasure bool, names []string) {
	ss, ok := c.objects(o, p, "strata", "a stratum")
	if !ok {
		return
	}
	if len(ss) == 0 {
		c.f.Add(rStrata, ptr(p, "strata"), "a multi-rate measure needs its strata")
	}
	seen := map[string]bool{}
	for _, s := range ss {
		sp, so := s.at, s.obj
		c.rateCounts(so, sp, method, registryMeasure)
		name, ok := c.str(so, sp, "stratum", true)
		if !ok {
			continue
		}
		if seen[name] {
			c.f.Add(rStrata, ptr(sp, "stratum"), "stratum %q appears twice", name)
		}
		seen[name] = true
		if len(names) > 1 && !slices.Contains(names, name) {
			c.f.Add(rStrata, ptr(sp, "stratum"), "stratum %q is not one of the measure's strata (%s)", name, strings.Join(names, ", "))
		}
	}
	if len(names) > 1 {
		for _, n := range names {
			if !seen[n] {
				c.f.Add(rStrata, ptr(p, "strata"), "stratum %q is missing; report every stratum of the measure", n)
			}
		}
	}
}
