package measure

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/liaison-registry/liaison/internal/clinical"
)

const validSpec = `id: test-m
version: "2024"
program: test
unit: episode
ageOn: encounter
period: {start: 2024-01-01, end: 2024-12-31}
intake: {start: 2023-07-01, end: 2024-06-30}
eligibility:
  sex: F
  minAge: 50
  options:
    - {group: "00", diagnoses: dx.txt, procedures: enc.txt}
  qualityCodes:
    - {category: performanceMet, code: 3095F}
episode: {index: fracture, label: fracture, newAfterDays: 60}
qualityWindow: [index, periodEnd]
valueSets:
  bmd: bmd.txt
numerator:
  window: [index, index+6m]
  rules:
    - {name: bmd-test, kind: procedure, valueSet: bmd, label: BMD test}
exclusions:
  - {name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}
`

func specFS(spec string, extra map[string]string) fstest.MapFS {
	fs := fstest.MapFS{
		"test-m/2024/spec.yaml": {Data: []byte(spec)},
		"test-m/2024/dx.txt":    {Data: []byte("# fractures\nICD10CM S72.001A hip\n")},
		"test-m/2024/enc.txt":   {Data: []byte("CPT 99213\n")},
		"test-m/2024/bmd.txt":   {Data: []byte("CPT 77080 DXA\n")},
	}
	for k, v := range extra {
		fs["test-m/2024/"+k] = &fstest.MapFile{Data: []byte(v)}
	}
	return fs
}

func TestValidSpecLoads(t *testing.T) {
	m, err := Load(specFS(validSpec, nil), "test-m/2024")
	if err != nil {
		t.Fatal(err)
	}
	got := m.Evaluate(woman("1950-01-01").visit("e1", "2024-02-01", "11", "99213", "S72.001A").p)
	if len(got) != 1 || !got[0].Populations.Has(PerformanceNotMet) || got[0].Observed {
		t.Fatalf("got %+v", got)
	}
	if m.Scoring != Proportion {
		t.Errorf("a spec that names no scoring is a proportion measure, got %q", m.Scoring)
	}
}

// Every invalid spec fails naming the file, the field and the reason.
func TestInvalidSpecs(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		extra          map[string]string
		file, field    string
		reason         string
	}{
		{"id-not-folder", "id: test-m", "id: other", nil, "spec.yaml", "id", "does not match its folder"},
		{"version-not-folder", `version: "2024"`, `version: "2023"`, nil, "spec.yaml", "version", "does not match"},
		{"unknown-key", "program: test", "program: test\nnumerater: {}", nil, "spec.yaml", "", "field numerater not found"},
		{"bad-unit", "unit: episode", "unit: instance", nil, "spec.yaml", "unit", "want episode or patient"},
		{"bad-scoring", "program: test", "program: test\nscoring: rate", nil, "spec.yaml", "scoring", "want proportion, ratio, continuous or cohort"},
		{"ratio-without-follow-up", "program: test", "program: test\nscoring: ratio", nil, "spec.yaml", "followUp", "required for a ratio measure"},
		{"follow-up-of-a-proportion", "program: test", "program: test\nfollowUp: {event: refracture}", nil, "spec.yaml", "followUp", "a proportion measure follows no cases"},
		{"refracture-scored-continuous", "program: test", "program: test\nscoring: continuous\nfollowUp: {event: refracture}", nil, "spec.yaml", "scoring", "a refracture follow-up is scored ratio"},
		{"strata-without-follow-up", "program: test", "program: test\nstrata: {careHome: true}", nil, "spec.yaml", "strata", "only time-to-event measures"},
		{"cohort-not-evaluated-yet", "program: test", "program: test\nscoring: cohort", nil, "spec.yaml", "scoring", "cohort measures are not evaluated by this engine yet"},
		{"continuous-without-observation", "program: test", "program: test\nscoring: continuous", nil, "spec.yaml", "observation", "required for a continuous measure"},
		{"observation-of-a-proportion", "program: test", "program: test\nobservation: {kind: pdc}", nil, "spec.yaml", "observation", "only a continuous measure"},
		{"bad-date", "start: 2024-01-01", "start: 2024-13-01", nil, "spec.yaml", "period.start", "not a calendar date"},
		{"period-backwards", "end: 2024-12-31", "end: 2023-12-31", nil, "spec.yaml", "period", "ends before it starts"},
		{"window-without-unit", "index+6m", "index+6", nil, "spec.yaml", "numerator.window", "want ANCHOR"},
		{"window-unknown-anchor", "[index, index+6m]", "[fracture, index+6m]", nil, "spec.yaml", "numerator.window", "unknown anchor"},
		{"missing-list", "diagnoses: dx.txt", "diagnoses: nope.txt", nil, "nope.txt", "", "file does not exist"},
		{"bad-code-in-list", "diagnoses: dx.txt", "diagnoses: bad.txt", map[string]string{"bad.txt": "ICD10CM S72.001A\nICD10CM 12\n"}, "bad.txt", "code", "not an ICD-10-CM code"},
		{"unknown-system-in-list", "diagnoses: dx.txt", "diagnoses: bad.txt", map[string]string{"bad.txt": "ICD11 AB12\n"}, "bad.txt", "system", "unknown code system"},
		{"duplicate-code-in-list", "diagnoses: dx.txt", "diagnoses: bad.txt", map[string]string{"bad.txt": "ICD10CM S72.001A\nICD10CM S72.001A\n"}, "bad.txt", "code", "listed twice"},
		{"list-escapes-tree", "diagnoses: dx.txt", "diagnoses: ../../../../etc/passwd", nil, "spec.yaml", "eligibility.options[0].diagnoses", "leaves the measures folder"},
		{"bad-category", "category: performanceMet", "category: met", nil, "spec.yaml", "eligibility.qualityCodes[0].category", "want performanceMet"},
		{"bad-quality-code", "code: 3095F}", "code: 3095}", nil, "spec.yaml", "eligibility.qualityCodes[0].code", "neither a CPT nor a HCPCS"},
		{"undeclared-value-set", "valueSet: bmd,", "valueSet: dxa,", nil, "spec.yaml", "numerator.rules[0].valueSet", "not declared"},
		{"unused-value-set", "  bmd: bmd.txt", "  bmd: bmd.txt\n  spare: bmd.txt", nil, "spec.yaml", "valueSets.spare", "not used"},
		{"bad-flag", "flag: hospice", "flag: hospital", nil, "spec.yaml", "exclusions[0].flag", "want hospice"},
		{"drugs-on-a-procedure-rule", "label: BMD test}", "label: BMD test, drugs: drugs.yaml}", nil, "spec.yaml", "numerator.rules[0].drugs", "medication rules with activeSupply only"},
		{"rule-without-window", ", window: [periodStart, periodEnd]}", "}", nil, "spec.yaml", "exclusions[0].window", "required"},
		{"duplicate-rule-name", "name: hospice", "name: bmd-test", nil, "spec.yaml", "exclusions[0].name", "already names"},
		{"bad-class", "procedures: enc.txt}", "classes: [clinic]}", nil, "spec.yaml", "eligibility.options[0].classes", "not an encounter class"},
		{"episode-without-label", "label: fracture, ", "", nil, "spec.yaml", "episode.label", "required"},
		{"no-new-episode-gap", "newAfterDays: 60", "newAfterDays: 0", nil, "spec.yaml", "episode.newAfterDays", "positive"},
		{"bad-sex", "sex: F", "sex: female", nil, "spec.yaml", "eligibility.sex", "want F, M"},
		{"option-valid-backwards", "procedures: enc.txt}", "procedures: enc.txt, validFrom: 2024-07-01, validTo: 2024-06-30}", nil, "spec.yaml", "eligibility.options[0].validTo", "before validFrom"},
		{"option-valid-bad-date", "procedures: enc.txt}", "procedures: enc.txt, validFrom: 2024-02-30}", nil, "spec.yaml", "eligibility.options[0].validFrom", "not a calendar date"},
		{"days-total-without-min-days", "flag: hospice,", "flag: hospice, daysTotal: true,", nil, "spec.yaml", "exclusions[0].daysTotal", "needs minDays"},
		// Combined rules (allOf, anyOf), age rules, minDates and onEncounter.
		{"combination-without-rules", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: anyOf, label: x}", nil, "spec.yaml", "exclusions[0].rules", "combine rules"},
		{"rules-under-a-plain-rule", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: death, window: [periodStart, periodEnd], rules: [{name: y, kind: death, window: [periodStart, periodEnd]}]}", nil, "spec.yaml", "exclusions[0].rules", "combine rules"},
		{"combination-with-window", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: allOf, label: x, window: [periodStart, periodEnd], rules: [{name: y, kind: death, window: [periodStart, periodEnd]}]}", nil, "spec.yaml", "exclusions[0].window", "their own windows"},
		{"combination-without-label", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: allOf, rules: [{name: y, kind: death, window: [periodStart, periodEnd]}]}", nil, "spec.yaml", "exclusions[0].label", "required"},
		{"duplicate-name-inside-combination", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: anyOf, label: x, rules: [{name: bmd-test, kind: death, window: [periodStart, periodEnd]}]}", nil, "spec.yaml", "exclusions[0].rules[0].name", "already names"},
		{"age-rule-without-bounds", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: age}", nil, "spec.yaml", "exclusions[0]", "needs minAge or maxAge"},
		{"age-rule-with-window", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: age, minAge: 81, window: [periodStart, periodEnd]}", nil, "spec.yaml", "exclusions[0].window", "no window"},
		{"min-dates-one", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: procedure, valueSet: bmd, label: b, minDates: 1, window: [periodStart, periodEnd]}", nil, "spec.yaml", "exclusions[0].minDates", "want 2 to 8"},
		{"min-dates-on-a-flag", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: flag, flag: hospice, minDates: 2, window: [periodStart, periodEnd]}", nil, "spec.yaml", "exclusions[0].minDates", "applies to"},
		{"on-encounter-on-a-procedure", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: procedure, valueSet: bmd, label: b, onEncounter: [bmd], window: [periodStart, periodEnd]}", nil, "spec.yaml", "exclusions[0].onEncounter", "diagnosis rules only"},
		// Care rules (fracture-liaison care events), episode requirements and RAG bands.
		{"care-without-events", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: care, label: c, window: [index, index+90d]}", nil, "spec.yaml", "exclusions[0].events", "required for kind care"},
		{"care-unknown-event", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: care, events: [dexa_scan], label: c, window: [index, index+90d]}", nil, "spec.yaml", "exclusions[0].events", "\"dexa_scan\" is not a care-event kind"},
		{"care-residence-event", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: care, events: [residence], label: c, window: [index, index+90d]}", nil, "spec.yaml", "exclusions[0].events", "not a step of care"},
		{"care-event-twice", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: care, events: [fls_assessment, fls_assessment], label: c, window: [index, index+90d]}", nil, "spec.yaml", "exclusions[0].events", "listed twice"},
		{"care-without-label", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: care, events: [fls_assessment], window: [index, index+90d]}", nil, "spec.yaml", "exclusions[0].label", "required for kind care"},
		{"care-without-window", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: care, events: [fls_assessment], label: c}", nil, "spec.yaml", "exclusions[0].window", "required"},
		{"care-with-value-set", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: care, events: [fls_assessment], valueSet: bmd, label: c, window: [index, index+90d]}", nil, "spec.yaml", "exclusions[0].valueSet", "by kind (events), not codes"},
		{"care-with-med-kinds", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: care, events: [fls_assessment], medKinds: [dispense], label: c, window: [index, index+90d]}", nil, "spec.yaml", "exclusions[0]", "medication rules only"},
		{"on-treatment-not-monitoring", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: care, events: [monitoring_contact, fls_assessment], onTreatment: true, label: c, window: [index, index+90d]}", nil, "spec.yaml", "exclusions[0].onTreatment", "monitoring_contact events only, not fls_assessment"},
		{"events-on-a-flag", "flag: hospice,", "flag: hospice, events: [fls_assessment],", nil, "spec.yaml", "exclusions[0]", "care rules only"},
		{"on-treatment-on-a-procedure", "label: BMD test}", "label: BMD test, onTreatment: true}", nil, "spec.yaml", "numerator.rules[0]", "care rules only"},
		{"requires-bad-rule", "exclusions:", "episodeRequires:\n  - {name: r, kind: care, events: [nope], label: r, window: [index, index+90d]}\nexclusions:", nil, "spec.yaml", "episodeRequires[0].events", "not a care-event kind"},
		{"bands-without-green", "program: test", "program: test\nbands: {amber: 0.5}", nil, "spec.yaml", "bands.green", "required"},
		{"bands-green-as-percent", "program: test", "program: test\nbands: {green: 80, amber: 50}", nil, "spec.yaml", "bands.green", "at most 1"},
		{"bands-amber-above-green", "program: test", "program: test\nbands: {green: 0.5, amber: 0.8}", nil, "spec.yaml", "bands.amber", "below green"},
		{"bands-unknown-key", "program: test", "program: test\nbands: {green: 0.8, red: 0.5}", nil, "spec.yaml", "", "field red not found"},
		{"on-encounter-undeclared-list", "{name: hospice, kind: flag, flag: hospice, window: [periodStart, periodEnd]}", "{name: x, kind: diagnosis, valueSet: bmd, label: b, onEncounter: [inpatient], window: [periodStart, periodEnd]}", nil, "spec.yaml", "exclusions[0].onEncounter", "not declared"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(validSpec, tc.from) {
				t.Fatalf("test bug: %q not in the valid spec", tc.from)
			}
			_, err := Load(specFS(strings.Replace(validSpec, tc.from, tc.to, 1), tc.extra), "test-m/2024")
			wantSpecError(t, err, "test-m/2024/"+tc.file, tc.field, tc.reason)
		})
	}
}

func TestKeys(t *testing.T) {
	keys := registry.Keys()
	for _, want := range []string{"mips-418@2017", "mips-418@2025", "mips-024@2021", "mips-039@2023", "hedis-omw@2025"} {
		if !strings.Contains(strings.Join(keys, " "), want) {
			t.Errorf("Keys() lacks %s: %v", want, keys)
		}
	}
	for _, bad := range []string{"mips-418", "@2024", "mips-418@", "../x@1"} {
		if _, err := registry.Get(bad); err == nil {
			t.Errorf("Get(%q) succeeded", bad)
		}
	}
}

// One compiled measure serves concurrent callers (run with -race).
func TestEvaluateConcurrently(t *testing.T) {
	m := mustMeasure(t, "mips-418@2024")
	p := fx().proc("x1", "2024-03-02", "77080").p
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if c := m.Evaluate(p); len(c) != 1 || !c[0].Populations.Has(Numerator) {
					t.Error("wrong result under concurrency")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestCountsAndRate(t *testing.T) {
	var c Counts
	if c.Rate() != nil {
		t.Error("rate of nothing should be null")
	}
	add := func(ps ...Population) {
		var s Populations
		for _, p := range ps {
			s.add(p)
		}
		c.Add(Case{Populations: s})
	}
	add(InitialPopulation, Denominator, Numerator)
	add(InitialPopulation, Denominator, PerformanceNotMet)
	add(InitialPopulation, Denominator, PerformanceNotMet)
	add(InitialPopulation, Denominator, DenominatorExclusion)
	add(InitialPopulation, Denominator, DenominatorException)
	if c[Denominator] != 5 || c[Numerator] != 1 || c[PerformanceNotMet] != 2 {
		t.Fatalf("counts %+v", c)
	}
	if r := c.Rate(); r == nil || *r != 0.333333 {
		t.Errorf("rate = %v, want 1/3", r)
	}
	all := Counts{InitialPopulation: 1, Denominator: 1, DenominatorExclusion: 1}
	if all.Rate() != nil {
		t.Error("all excluded: rate should be null")
	}
}

// Records with codes in unknown systems are ignored, not a crash.
func TestUnknownSystemIgnored(t *testing.T) {
	b := fx()
	b.p.Procedures = append(b.p.Procedures, clinical.Procedure{SourceID: "z", Code: clinical.Code{System: "LOINC", Code: "1"}, Date: d("2024-03-01")})
	if c := mustMeasure(t, "mips-418@2024").Evaluate(b.p); len(c) != 1 {
		t.Fatal(c)
	}
}

// continuousSpec is a valid continuous measure: a PDC of meds.txt's fills.
const continuousSpec = `id: test-m
version: "2024"
program: test
scoring: continuous
unit: episode
ageOn: encounter
period: {start: 2024-01-01, end: 2024-12-31}
eligibility:
  minAge: 50
  options:
    - {group: "00", diagnoses: dx.txt, procedures: enc.txt}
episode: {index: fracture, label: fracture, newAfterDays: 60}
valueSets:
  meds: meds.txt
observation:
  kind: pdc
  label: osteoporosis medication
  valueSet: meds
  medKinds: [dispense, administration]
  window: [index, index+365d]
  drugs: drugs.yaml
  threshold: 0.80
  minDaysAfterFirstFill: 91
  periodEnds: [death]
exclusions:
  - {name: hospice, kind: flag, flag: hospice, window: [index, index+365d]}
`

const continuousDrugs = `drugs:
  - {drug: alendronate, names: [alendronic acid]}
  - drug: denosumab
    names: [denosumab]
    daysSupply:
      - {days: 183}
`

func continuousFS(spec, drugs string) fstest.MapFS {
	return specFS(spec, map[string]string{
		"meds.txt":   "RXNORM 904431 alendronic acid 70 MG Oral Tablet\nHCPCS J0897 Injection, denosumab, 1 mg\n",
		"drugs.yaml": drugs,
	})
}

func TestValidContinuousSpecLoads(t *testing.T) {
	m, err := Load(continuousFS(continuousSpec, continuousDrugs), "test-m/2024")
	if err != nil {
		t.Fatal(err)
	}
	// A denosumab claim on the fracture's day: 183 of the 366 days to
	// fracture + 365.
	got := m.Evaluate(woman("1950-01-01").visit("e1", "2024-02-01", "11", "99213", "S72.001A", "J0897").p)
	if len(got) != 1 || !got[0].Observed || got[0].Observation != 183.0/366 || got[0].Populations != PopulationsOf(InitialPopulation, MeasurePopulation) {
		t.Fatalf("got %+v", got)
	}
	if m.Scoring != Continuous || m.Candidates().Coverage {
		t.Errorf("scoring %q, reads coverage %v; want continuous, no coverage (periodEnds has no disenrollment)", m.Scoring, m.Candidates().Coverage)
	}
}

// A continuous spec that asks for what the engine cannot do, or for what
// only proportion measures have, fails naming the file, the field and why.
func TestInvalidContinuousSpecs(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		drugs          string // replaces continuousDrugs when set
		file, field    string
		reason         string
	}{
		{"unknown-kind", "kind: pdc", "kind: mpr", "", "spec.yaml", "observation.kind", "want pdc"},
		{"no-label", "  label: osteoporosis medication\n", "", "", "spec.yaml", "observation.label", "required"},
		{"undeclared-value-set", "valueSet: meds", "valueSet: drugs", "", "spec.yaml", "observation.valueSet", `"drugs" is not declared`},
		{"no-med-kinds", "  medKinds: [dispense, administration]\n", "", "", "spec.yaml", "observation.medKinds", "required"},
		{"bad-med-kind", "[dispense, administration]", "[dispense, fill]", "", "spec.yaml", "observation.medKinds", `"fill": want order`},
		{"bad-window", "[index, index+365d]\n  drugs", "[index, index+1y]\n  drugs", "", "spec.yaml", "observation.window", "want ANCHOR"},
		{"no-threshold", "  threshold: 0.80\n", "", "", "spec.yaml", "observation.threshold", "required"},
		{"threshold-above-one", "threshold: 0.80", "threshold: 80", "", "spec.yaml", "observation.threshold", "at most 1"},
		{"negative-min-days", "minDaysAfterFirstFill: 91", "minDaysAfterFirstFill: -1", "", "spec.yaml", "observation.minDaysAfterFirstFill", "negative"},
		{"unknown-period-end", "periodEnds: [death]", "periodEnds: [death, transfer]", "", "spec.yaml", "observation.periodEnds", `"transfer": want death`},
		{"period-end-twice", "periodEnds: [death]", "periodEnds: [death, death]", "", "spec.yaml", "observation.periodEnds", "each once"},
		{"no-drugs-file", "  drugs: drugs.yaml\n", "", "", "spec.yaml", "observation.drugs", "required"},
		{"a-numerator-block", "exclusions:", "numerator:\n  window: [index, index+6m]\nexclusions:", "", "spec.yaml", "numerator", "numerator is its observation's threshold"},
		{"exceptions", "exclusions:", "exceptions:\n  - {name: x, kind: death, window: [index, index+365d]}\nexclusions:", "", "spec.yaml", "exceptions", "no denominator exceptions"},
		{"quality-codes", "exclusions:", "qualityWindow: [index, periodEnd]\nexclusions:", "", "spec.yaml", "qualityWindow", "a continuous measure takes none"},
		{"drug-name-not-normalised", "", "", "drugs:\n  - {drug: alendronate, names: [Alendronic Acid]}\n", "drugs.yaml", "drugs[0].names", `want "alendronic acid"`},
		{"drug-name-twice", "", "", "drugs:\n  - {drug: a, names: [x]}\n  - {drug: b, names: [x]}\n", "drugs.yaml", "drugs[1].names", `"x" already names a`},
		{"drug-without-names", "", "", "drugs:\n  - {drug: a}\n", "drugs.yaml", "drugs[0].names", "at least one name"},
		{"zero-days", "", "", "drugs:\n  - {drug: a, names: [x], daysSupply: [{days: 0}]}\n", "drugs.yaml", "drugs[0].daysSupply[0].days", "want 1 to"},
		{"catch-all-not-last", "", "", "drugs:\n  - {drug: a, names: [x], daysSupply: [{days: 9}, {words: [oral], days: 30}]}\n", "drugs.yaml", "drugs[0].daysSupply[0].words", "must be the drug's last"},
		{"unknown-drugs-key", "", "", "drugs:\n  - {drug: a, names: [x], days: 9}\n", "drugs.yaml", "", "field days not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, drugs := continuousSpec, continuousDrugs
			spec = editSpec(t, spec, tc.from, tc.to)
			if tc.drugs != "" {
				drugs = tc.drugs
			}
			_, err := Load(continuousFS(spec, drugs), "test-m/2024")
			wantSpecError(t, err, "test-m/2024/"+tc.file, tc.field, tc.reason)
		})
	}
}

// wantSpecError fails unless err is a SpecError naming file and field, with
// reason in its text.
func wantSpecError(t *testing.T, err error, file, field, reason string) {
	t.Helper()
	var se *SpecError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a SpecError", err)
	}
	if se.File != file || se.Field != field || !strings.Contains(se.Reason, reason) {
		t.Errorf("got file %q field %q reason %q; want %q %q %q", se.File, se.Field, se.Reason, file, field, reason)
	}
}

// editSpec replaces from with to in a test spec; an empty from leaves it.
func editSpec(t *testing.T, spec, from, to string) string {
	t.Helper()
	if from == "" {
		return spec
	}
	if !strings.Contains(spec, from) {
		t.Fatalf("the spec has no %q", from)
	}
	return strings.Replace(spec, from, to, 1)
}
