package qppjson

import (
	"encoding/json"
	"slices"
	"testing"
)

type obj = map[string]any

// base is a valid PY2025 individual submission of the three osteoporosis
// MIPS CQMs through a registry.
func base() obj {
	single := func(met, notMet, elig int) obj {
		return obj{"isEndToEndReported": true, "performanceMet": met, "performanceNotMet": notMet,
			"eligiblePopulationExclusion": 0, "eligiblePopulationException": 0, "eligiblePopulation": elig}
	}
	return obj{
		"entityType": "individual", "taxpayerIdentificationNumber": "123456789",
		"nationalProviderIdentifier": "1234567893", "performanceYear": 2025,
		"measurementSets": []any{obj{
			"category": "quality", "submissionMethod": "registry", "programName": "mips",
			"performanceStart": "2025-01-01", "performanceEnd": "2025-12-31",
			"measurements": []any{
				obj{"measureId": "418", "value": single(30, 10, 45)},
				obj{"measureId": "024", "value": single(5, 5, 10)},
				obj{"measureId": "039", "value": single(50, 0, 50)},
			},
		}},
	}
}

func set(o obj) obj          { return o["measurementSets"].([]any)[0].(obj) }
func value(o obj, i int) obj { return set(o)["measurements"].([]any)[i].(obj)["value"].(obj) }

func run(t *testing.T, doc obj, year int) (int, []string, string) {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if !IsSubmission(v) {
		t.Fatal("not recognised as a submission")
	}
	y, f := Check(v, year)
	return y, f.Codes(), f.String()
}

var cases = []struct {
	name   string
	year   int
	mutate func(o obj) obj
	want   string // "" = no findings
}{
	{name: "pass: base", mutate: func(o obj) obj { return o }},
	{name: "pass: registry measurement set with nested submission", mutate: func(o obj) obj {
		s := set(o)
		delete(o, "measurementSets")
		s["submission"] = o
		return s
	}},
	{name: "not an object", mutate: func(o obj) obj { return obj{"measurements": []any{}, "submission": obj{}} }, want: "qppjson.field.missing"},
	{name: "performanceYear as string", mutate: func(o obj) obj { o["performanceYear"] = "2025"; return o }, want: "qppjson.field.type"},
	{name: "year mismatch", year: 2024, mutate: func(o obj) obj { return o }, want: "qppjson.year.mismatch"},
	{name: "year unsupported", mutate: func(o obj) obj {
		o["performanceYear"] = 2016
		set(o)["performanceStart"], set(o)["performanceEnd"] = "2016-01-01", "2016-12-31"
		return o
	}, want: "qppjson.year.unsupported"},
	{name: "year without measure data", mutate: func(o obj) obj {
		o["performanceYear"] = 2028
		set(o)["performanceStart"], set(o)["performanceEnd"] = "2028-01-01", "2028-12-31"
		return o
	}, want: "qppjson.year.no_measures"},
	{name: "entityType unknown", mutate: func(o obj) obj { o["entityType"] = "practice"; return o }, want: "qppjson.field.enum"},
	{name: "category aci after 2017", mutate: func(o obj) obj { set(o)["category"] = "aci"; return o }, want: "qppjson.field.enum"},
	{name: "programName unknown", mutate: func(o obj) obj { set(o)["programName"] = "pqrs"; return o }, want: "qppjson.field.enum"},
	{name: "pass: MVP programName", mutate: func(o obj) obj { set(o)["programName"] = "G0053"; return o }},
	{name: "measurements missing", mutate: func(o obj) obj { delete(set(o), "measurements"); return o }, want: "qppjson.field.missing"},
	{name: "date format", mutate: func(o obj) obj { set(o)["performanceStart"] = "01/01/2025"; return o }, want: "qppjson.date.format"},
	{name: "date outside year", mutate: func(o obj) obj { set(o)["performanceEnd"] = "2026-01-31"; return o }, want: "qppjson.date.year"},
	{name: "dates reversed", mutate: func(o obj) obj {
		set(o)["performanceStart"] = "2025-12-31"
		set(o)["performanceEnd"] = "2025-01-01"
		return o
	}, want: "qppjson.date.order"},
	{name: "partial year", mutate: func(o obj) obj { set(o)["performanceEnd"] = "2025-06-30"; return o }, want: "qppjson.date.partial"},
	{name: "TIN with 8 digits", mutate: func(o obj) obj { o["taxpayerIdentificationNumber"] = "12345678"; return o }, want: "qppjson.tin.format"},
	{name: "TIN as number", mutate: func(o obj) obj { o["taxpayerIdentificationNumber"] = 123456789; return o }, want: "qppjson.field.type"},
	{name: "test TIN", mutate: func(o obj) obj { o["taxpayerIdentificationNumber"] = "000000002"; return o }, want: "qppjson.tin.test"},
	{name: "NPI 9 digits", mutate: func(o obj) obj { o["nationalProviderIdentifier"] = "123456789"; return o }, want: "qppjson.npi.format"},
	{name: "NPI check digit", mutate: func(o obj) obj { o["nationalProviderIdentifier"] = "1234567890"; return o }, want: "qppjson.npi.check_digit"},
	{name: "NPI on a group", mutate: func(o obj) obj { o["entityType"] = "group"; return o }, want: "qppjson.npi.unexpected"},
	{name: "individual without NPI", mutate: func(o obj) obj { delete(o, "nationalProviderIdentifier"); return o }, want: "qppjson.field.missing"},
	{name: "pass: group", mutate: func(o obj) obj { o["entityType"] = "group"; delete(o, "nationalProviderIdentifier"); return o }},
	{name: "APM without entityId", mutate: func(o obj) obj {
		o["entityType"] = "apm"
		delete(o, "nationalProviderIdentifier")
		return o
	}, want: "qppjson.entity_id.missing"},
	{name: "cehrtId too short", mutate: func(o obj) obj { set(o)["cehrtId"] = "0015C"; return o }, want: "qppjson.cehrt.format"},
	{name: "no measurements", mutate: func(o obj) obj { set(o)["measurements"] = []any{}; return o }, want: "qppjson.measurements.empty"},
	{name: "unknown measure", mutate: func(o obj) obj {
		set(o)["measurements"].([]any)[0].(obj)["measureId"] = "001"
		return o
	}, want: "qppjson.measure.unknown"},
	{name: "472 after its last year", mutate: func(o obj) obj {
		set(o)["measurements"].([]any)[0].(obj)["measureId"] = "472"
		return o
	}, want: "qppjson.measure.year"},
	{name: "418 by EHR", mutate: func(o obj) obj { set(o)["submissionMethod"] = "electronicHealthRecord"; return o }, want: "qppjson.measure.method"},
	{name: "unknown submission method", mutate: func(o obj) obj { set(o)["submissionMethod"] = "fax"; return o }, want: "qppjson.field.enum"},
	{name: "quality measure in an IA set", mutate: func(o obj) obj { set(o)["category"] = "ia"; return o }, want: "qppjson.measure.category"},
	{name: "same measure twice", mutate: func(o obj) obj {
		ms := set(o)["measurements"].([]any)
		set(o)["measurements"] = append(ms, ms[0])
		return o
	}, want: "qppjson.measure.duplicate"},
	{name: "count negative", mutate: func(o obj) obj { value(o, 0)["performanceNotMet"] = -1; return o }, want: "qppjson.count.type"},
	{name: "count fractional", mutate: func(o obj) obj { value(o, 0)["performanceMet"] = 2.5; return o }, want: "qppjson.count.type"},
	{name: "isEndToEndReported missing", mutate: func(o obj) obj { delete(value(o, 0), "isEndToEndReported"); return o }, want: "qppjson.field.missing"},
	{name: "met above eligible", mutate: func(o obj) obj { value(o, 0)["performanceMet"] = 46; return o }, want: "qppjson.count.met"},
	{name: "sum above eligible", mutate: func(o obj) obj { value(o, 0)["eligiblePopulationException"] = 6; return o }, want: "qppjson.count.sum"},
	{name: "registry MIPS measure with exclusions", mutate: func(o obj) obj { value(o, 0)["eligiblePopulationExclusion"] = 2; return o }, want: "qppjson.registry.exclusion"},
	{name: "pass: exclusions before the 2020 rule", mutate: func(o obj) obj {
		o["performanceYear"] = 2019
		set(o)["performanceStart"], set(o)["performanceEnd"] = "2019-01-01", "2019-12-31"
		value(o, 0)["eligiblePopulationExclusion"] = 2
		return o
	}},
	{name: "QCDR rate above 100", mutate: func(o obj) obj {
		set(o)["measurements"] = []any{obj{"measureId": "QMM19", "value": obj{"isEndToEndReported": true, "performanceMet": 1, "eligiblePopulation": 2, "performanceRate": 150}}}
		return o
	}, want: "qppjson.rate.range"},
	{name: "multi-rate stratum twice", mutate: func(o obj) obj {
		st := obj{"performanceMet": 1, "eligiblePopulation": 2, "stratum": "overall"}
		set(o)["measurements"] = []any{obj{"measureId": "391", "value": obj{"isEndToEndReported": true, "strata": []any{st, st}}}}
		return o
	}, want: "qppjson.strata"},
	{name: "PI proportion above 1", mutate: func(o obj) obj {
		o["measurementSets"] = []any{obj{"category": "pi", "submissionMethod": "electronicHealthRecord", "performanceStart": "2025-01-01",
			"performanceEnd": "2025-03-31", "measurements": []any{obj{"measureId": "PI_EP_1", "value": obj{"numerator": 3, "denominator": 2}}}}}
		return o
	}, want: "qppjson.proportion"},
	{name: "boolean measure with a number", mutate: func(o obj) obj {
		o["measurementSets"] = []any{obj{"category": "ia", "submissionMethod": "registry", "performanceStart": "2025-01-01",
			"performanceEnd": "2025-03-31", "measurements": []any{obj{"measureId": "IA_EPA_4", "value": 1}}}}
		return o
	}, want: "qppjson.field.type"},
}

func TestRules(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, codes, text := run(t, tc.mutate(base()), tc.year)
			if tc.want == "" && len(codes) != 0 || tc.want != "" && !slices.Contains(codes, tc.want) {
				t.Fatalf("want %q, got:\n%s", tc.want, text)
			}
		})
	}
}

func TestRoot(t *testing.T) {
	v, err := Parse([]byte(`[{"performanceYear": 2025}]`))
	if err != nil {
		t.Fatal(err)
	}
	if IsSubmission(v) {
		t.Fatal("an array is not a submission")
	}
	if _, f := Check(v, 0); !f.Has("qppjson.root") {
		t.Fatalf("got %s", f)
	}
}

func TestEveryRuleFails(t *testing.T) {
	for _, r := range Rules {
		if r.Code == "qppjson.root" {
			continue // TestRoot
		}
		if !slices.ContainsFunc(cases, func(c struct {
			name   string
			year   int
			mutate func(o obj) obj
			want   string
		}) bool {
			return c.want == r.Code
		}) {
			t.Errorf("rule %s has no failing case", r.Code)
		}
	}
}
