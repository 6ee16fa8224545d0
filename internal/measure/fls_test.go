package measure

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// The fracture-liaison KPIs (fls-*@2025): FLS-DB KPIs 4-11 and the IOF/FFN
// set where it differs (reference/fls.md §2; measures/README.md, "fls-*
// KPIs"). Each is tested at its window's edges: its first day and last day
// count, the day before and the day after do not.

// flsFracture is the index fracture of every KPI test: a distal-radius
// fracture (S52.501A, non-hip) of a woman aged 74, seen that day.
const flsFracture = "2025-02-19"

func flsPatient() *pb {
	return woman("1950-05-10").visit("e1", flsFracture, "11", "99213", "S52.501A")
}

// day is the date n days after the fracture.
func day(n int) string { return d(flsFracture).AddDays(n).String() }

func (b *pb) care(id string, kind clinical.CareKind, date string) *pb {
	b.p.CareEvents = append(b.p.CareEvents, clinical.CareEvent{TIN: testTIN, SourceID: id, PatientID: "p1", Kind: kind, Date: d(date)})
	return b
}

// contact adds a monitoring contact that found the patient on treatment or not.
func (b *pb) contact(id, date string, onTreatment bool) *pb {
	b.care(id, clinical.CareMonitoringContact, date)
	b.p.CareEvents[len(b.p.CareEvents)-1].OnTreatment = clinical.NullBool{Value: onTreatment, Valid: true}
	return b
}

// alendronate is a dispensing of alendronic acid 10 mg tablets (RxNorm
// 904419, in valuesets/osteoporosis-meds.txt) for days days.
func (b *pb) alendronate(id, date string, days int32) *pb {
	return b.med(id, clinical.MedDispense, date, clinical.RxNorm, "904419", days)
}

// flsKPI is one KPI measure: its window's days after the fracture, the
// record that meets it on a given day, and what puts an episode in its
// denominator when not every episode is.
type flsKPI struct {
	id          string
	first, last int                   // the numerator window, in days after the fracture
	step        func(*pb, string) *pb // the KPI's step on a date
	rule        string                // the rule the step satisfies, named in evidence
	needs       func(*pb) *pb         // the denominator requirement, nil: every episode
}

func careStep(kind clinical.CareKind) func(*pb, string) *pb {
	return func(b *pb, date string) *pb { return b.care("v1", kind, date) }
}

func recommended(b *pb) *pb { return b.care("r1", clinical.CareAOMRecommended, day(10)) }

var flsKPIs = []flsKPI{
	{id: "fls-assessment-90d", last: 90, step: careStep(clinical.CareFLSAssessment), rule: "fls-assessment"},
	{id: "fls-dxa-90d", last: 90, step: func(b *pb, date string) *pb { return b.proc("x1", date, "77080") }, rule: "dxa"},
	{id: "fls-falls-90d", last: 90, step: careStep(clinical.CareFallsReferral), rule: "falls"},
	{id: "fls-aom-recommended-90d", last: 90, step: careStep(clinical.CareAOMRecommended), rule: "aom-recommended"},
	{id: "fls-strength-balance-112d", last: 112, step: careStep(clinical.CareStrengthBalanceReferral), rule: "strength-balance"},
	{id: "fls-monitoring-84-112d", first: 84, last: 112, step: careStep(clinical.CareMonitoringContact), rule: "monitoring"},
	{id: "fls-aom-started-112d", last: 112, step: func(b *pb, date string) *pb { return b.alendronate("m1", date, 30) }, rule: "aom-fill", needs: recommended},
	{id: "fls-on-aom-364d", first: 336, last: 364, step: func(b *pb, date string) *pb { return b.contact("c1", date, true) }, rule: "on-treatment-52w", needs: recommended},
	{id: "fls-fracture-risk-84d", last: 84, step: careStep(clinical.CareFractureRisk), rule: "fracture-risk"},
	{id: "fls-dxa-84d", last: 84, step: func(b *pb, date string) *pb { return b.proc("x1", date, "77085") }, rule: "dxa"},
	{id: "fls-falls-assessment-84d", last: 84, step: careStep(clinical.CareFallsAssessment), rule: "falls-assessment"},
	{id: "fls-aom-recommended-84d", last: 84, step: careStep(clinical.CareAOMRecommended), rule: "aom-recommended"},
	{id: "fls-strength-balance-start-112d", last: 112, step: careStep(clinical.CareStrengthBalanceStart), rule: "strength-balance-start"},
	{id: "fls-monitoring-112d", last: 112, step: careStep(clinical.CareMonitoringContact), rule: "monitoring"},
	{id: "fls-aom-started-all-112d", last: 112, step: func(b *pb, date string) *pb { return b.contact("c1", date, true) }, rule: "on-treatment"},
	{id: "fls-on-aom-all-364d", first: 336, last: 364, step: func(b *pb, date string) *pb { return b.contact("c1", date, true) }, rule: "on-treatment-52w"},
}

func (k flsKPI) patient() *pb {
	b := flsPatient()
	if k.needs != nil {
		b = k.needs(b)
	}
	return b
}

// TestFLSKPIWindowEdges: for every KPI, the step on the window's last day
// counts and the day after does not; on the fracture's day (day 0) it
// counts exactly when the window starts there, and otherwise on its first
// day and not the day before.
func TestFLSKPIWindowEdges(t *testing.T) {
	var tests []golden
	for _, k := range flsKPIs {
		key := k.id + "@2025"
		at := func(n int) *pb { return k.step(k.patient(), day(n)) }
		tests = append(tests,
			golden{fmt.Sprintf("last-day-%d-counts", k.last), key, at(k.last), []wantCase{{pops: met, index: flsFracture, due: day(k.last), rule: k.rule}}},
			golden{fmt.Sprintf("day-after-%d-does-not", k.last+1), key, at(k.last + 1), []wantCase{{pops: notMet, rule: "numerator-not-found", text: "(due date)"}}})
		if k.first == 0 {
			tests = append(tests, golden{"index-day-counts", key, at(0), []wantCase{{pops: met, rule: k.rule, text: "day 0 after the fracture of " + flsFracture}}})
		} else {
			tests = append(tests,
				golden{"index-day-does-not", key, at(0), []wantCase{{pops: notMet}}},
				golden{fmt.Sprintf("first-day-%d-counts", k.first), key, at(k.first), []wantCase{{pops: met, rule: k.rule}}},
				golden{fmt.Sprintf("day-before-%d-does-not", k.first-1), key, at(k.first - 1), []wantCase{{pops: notMet}}})
		}
		// A death before the window closes, with the step not done, is a
		// denominator exception; after the step, the case is met.
		tests = append(tests,
			golden{"died-in-window-without-step-excepted", key, k.patient().died(day(k.last)), []wantCase{{pops: exc4, rule: "died"}}},
			golden{"died-after-step-met", key, at(k.last).died(day(k.last)), []wantCase{{pops: met}}},
			golden{"died-after-window-not-met", key, k.patient().died(day(k.last + 1)), []wantCase{{pops: notMet}}})
	}
	runGolden(t, tests)
}

// TestFLSKPIDenominators: the KPIs whose denominator is not every episode.
func TestFLSKPIDenominators(t *testing.T) {
	hip := func() *pb { return woman("1950-05-10").visit("e1", flsFracture, "11", "99213", "S72.001A") }
	fill := func(b *pb, n int) *pb { return b.alendronate("m1", day(n), 30) }
	runGolden(t, []golden{
		// FLS-DB KPI 8 counts non-hip patients; IOF's start KPI every patient.
		{"hip-fracture-not-counted", "fls-strength-balance-112d@2025", hip().care("v1", clinical.CareStrengthBalanceStart, day(30)), nil},
		{"hip-fracture-on-another-day-counted", "fls-strength-balance-112d@2025", flsPatient().visit("e2", day(20), "11", "99213", "S72.001A"), []wantCase{{pops: notMet}}},
		{"iof-hip-fracture-counted", "fls-strength-balance-start-112d@2025", hip().care("v1", clinical.CareStrengthBalanceStart, day(30)), []wantCase{{pops: met}}},
		{"iof-referral-is-not-a-start", "fls-strength-balance-start-112d@2025", flsPatient().care("v1", clinical.CareStrengthBalanceReferral, day(30)), []wantCase{{pops: notMet}}},
		// FLS-DB KPI 10: among those recommended AOM in KPI 7's 90 days.
		{"started-without-recommendation-no-case", "fls-aom-started-112d@2025", fill(flsPatient(), 30), nil},
		{"recommended-day-90-counted", "fls-aom-started-112d@2025", flsPatient().care("r1", clinical.CareAOMRecommended, day(90)),
			[]wantCase{{pops: notMet, rule: "denominator", text: "Bone therapy recommended on " + day(90) + " (care event r1), day 90 after the fracture"}}},
		{"recommended-day-91-no-case", "fls-aom-started-112d@2025", flsPatient().care("r1", clinical.CareAOMRecommended, day(91)), nil},
		{"declined-is-not-recommended", "fls-aom-started-112d@2025", flsPatient().care("r1", clinical.CareAOMDeclined, day(10)), nil},
		{"order-is-not-a-start", "fls-aom-started-112d@2025", recommended(flsPatient()).med("m1", clinical.MedOrder, day(30), clinical.RxNorm, "904419", 30), []wantCase{{pops: notMet}}},
		{"contact-on-treatment-is-a-start", "fls-aom-started-112d@2025", recommended(flsPatient()).contact("c1", day(100), true), []wantCase{{pops: met, rule: "on-treatment", text: "on treatment"}}},
		{"contact-not-on-treatment-is-not", "fls-aom-started-112d@2025", recommended(flsPatient()).contact("c1", day(100), false), []wantCase{{pops: notMet}}},
		{"iof-started-counts-every-episode", "fls-aom-started-all-112d@2025", fill(flsPatient(), 112), []wantCase{{pops: met, rule: "aom-fill"}}},
		{"iof-started-day-113-not", "fls-aom-started-all-112d@2025", fill(flsPatient(), 113), []wantCase{{pops: notMet}}},
		// FLS-DB KPI 11: among those recommended or started; on AOM at day 364.
		{"on-aom-started-by-fill-counted", "fls-on-aom-364d@2025", fill(flsPatient(), 112), []wantCase{{pops: notMet}}},
		{"on-aom-started-day-113-no-case", "fls-on-aom-364d@2025", fill(flsPatient(), 113), nil},
		{"on-aom-supply-to-day-364-counts", "fls-on-aom-364d@2025", fill(flsPatient(), 30).alendronate("m2", day(335), 30),
			[]wantCase{{pops: met, rule: "aom-supply", text: "supply lasting to " + day(364)}}},
		{"on-aom-supply-to-day-363-does-not", "fls-on-aom-364d@2025", fill(flsPatient(), 30).alendronate("m2", day(334), 30), []wantCase{{pops: notMet}}},
		{"on-aom-fill-on-day-364-counts", "fls-on-aom-364d@2025", fill(flsPatient(), 30).alendronate("m2", day(364), 30), []wantCase{{pops: met}}},
		{"iof-on-aom-counts-every-episode", "fls-on-aom-all-364d@2025", flsPatient().alendronate("m2", day(350), 30), []wantCase{{pops: met}}},
	})
}

// TestFLSOnAOMReadsParenteralDosesByTheDrugsFile: a parenteral dose recorded
// with 0 or 1 day's supply (a claim or an administration carries no more)
// lasts what aom-pdc's drugs file gives its product, the FDA labels'
// intervals: a yearly zoledronic acid infusion on the fracture's day still
// covers day 364, one the day before does not; a 6-monthly denosumab
// injection on day 182 covers day 364, on day 181 it does not. A dose whose
// record gives its supply keeps it, and an oral drug the file gives nothing
// for covers its own date only.
func TestFLSOnAOMReadsParenteralDosesByTheDrugsFile(t *testing.T) {
	const key = "fls-on-aom-all-364d@2025"
	zol := func(n int, days int32) *pb {
		return flsPatient().med("z1", clinical.MedAdministration, day(n), clinical.HCPCS, "J3489", days)
	}
	prolia := func(n int) *pb {
		return flsPatient().med("d1", clinical.MedAdministration, day(n), clinical.RxNorm, "993456", 1)
	}
	runGolden(t, []golden{
		{"zoledronic-day-0-lasts-to-day-364", key, zol(0, 1), []wantCase{{pops: met, rule: "aom-supply",
			text: "supply lasting to " + day(364) + " (365 days by the drugs file; the record gives 1)"}}},
		{"zoledronic-no-supply-day-0-lasts-to-day-364", key, zol(0, 0), []wantCase{{pops: met, rule: "aom-supply"}}},
		{"zoledronic-day-before-fracture-to-day-363", key, zol(-1, 1), []wantCase{{pops: notMet}}},
		{"zoledronic-record-supply-kept", key, zol(0, 30), []wantCase{{pops: notMet}}},
		{"denosumab-day-182-lasts-to-day-364", key, prolia(182), []wantCase{{pops: met, rule: "aom-supply", text: "(183 days by the drugs file; the record gives 1)"}}},
		{"denosumab-day-181-lasts-to-day-363", key, prolia(181), []wantCase{{pops: notMet}}},
		{"oral-one-day-covers-its-date-only", key, flsPatient().alendronate("m1", day(300), 1), []wantCase{{pops: notMet}}},
		// A claims-only extract bills the infusion as a drug code on a claim line.
		{"zoledronic-billed-day-0-lasts-to-day-364", key, flsPatient().visit("e2", day(0), "11", "J3489"), []wantCase{{pops: met, rule: "aom-supply",
			text: "supply lasting to " + day(364) + " (365 days by the drugs file; the record gives 0)"}}},
		{"zoledronic-billed-day-before-fracture-to-day-363", key, flsPatient().visit("e2", day(-1), "11", "J3489"), []wantCase{{pops: notMet}}},
	})
	// FLS-DB's KPI 11 reads the same file.
	runGolden(t, []golden{{"kpi-11-zoledronic-day-0", "fls-on-aom-364d@2025", zol(0, 1), []wantCase{{pops: met, rule: "aom-supply"}}}})
}

// The bands every KPI reads its rate by: FLS-DB's three (green >= 80%,
// amber 50-79%, red < 50%) and IOF's two for treatment recommendation.
func TestFLSBands(t *testing.T) {
	for _, k := range flsKPIs {
		m := mustMeasure(t, k.id+"@2025")
		want := Bands{Green: 0.80, Amber: 0.50}
		if k.id == "fls-aom-recommended-84d" {
			want = Bands{Green: 0.50}
		}
		if m.Bands == nil || *m.Bands != want {
			t.Errorf("%s: bands %+v, want %+v", k.id, m.Bands, want)
		}
	}
	if m := mustMeasure(t, "mips-418@2025"); m.Bands != nil || m.BandOf(new(float64)) != "" {
		t.Errorf("mips-418 has bands %+v", m.Bands)
	}
	three, two := &Bands{Green: 0.80, Amber: 0.50}, &Bands{Green: 0.50}
	for _, tc := range []struct {
		b    *Bands
		rate float64
		want Band
	}{
		{three, 1, BandGreen}, {three, 0.80, BandGreen}, {three, 0.799999, BandAmber}, {three, 0.50, BandAmber},
		{three, 0.499999, BandRed}, {three, 0, BandRed},
		{two, 0.50, BandGreen}, {two, 0.499999, BandRed}, {two, 0.79, BandGreen},
	} {
		if got := tc.b.Of(tc.rate); got != tc.want {
			t.Errorf("%v.Of(%v) = %s, want %s", tc.b, tc.rate, got, tc.want)
		}
	}
	// Rates as Counts.Rate computes them: 4 of 5 is green, 39 of 50 amber.
	m := mustMeasure(t, "fls-assessment-90d@2025")
	var c Counts
	c[Denominator], c[Numerator] = 5, 4
	if got := m.BandOf(c.Rate()); got != BandGreen {
		t.Errorf("4 of 5: %s, want green", got)
	}
	c[Denominator], c[Numerator] = 50, 39
	if got := m.BandOf(c.Rate()); got != BandAmber {
		t.Errorf("39 of 50: %s, want amber", got)
	}
	if got := m.BandOf(Counts{}.Rate()); got != "" {
		t.Errorf("no rate: band %q, want none", got)
	}
}

func flsKPIOf(id string) flsKPI {
	for _, k := range flsKPIs {
		if k.id == id {
			return k
		}
	}
	panic("no KPI test table entry for " + id)
}

// TestFLSSpineIdentification: FLS-DB KPI 3 counts an episode whose index
// fracture is vertebral (on the fracture date itself: day 0 counts, day 1
// does not), whatever else broke that day; its bands are KPI 3's own.
func TestFLSSpineIdentification(t *testing.T) {
	const key = "fls-spine-identification@2025"
	lumbar := func() *pb { return woman("1950-05-10").visit("e1", flsFracture, "21", "99223", "S32.010A") }
	runGolden(t, []golden{
		{"wrist-index-not-met", key, flsPatient(), []wantCase{{pops: notMet, rule: "numerator-not-found"}}},
		{"lumbar-index-met", key, lumbar(), []wantCase{{pops: met, rule: "vertebral-fracture", index: flsFracture}}},
		{"osteoporotic-vertebral-index-met", key, woman("1950-05-10").visit("e1", flsFracture, "11", "99213", "M80.08XA"), []wantCase{{pops: met, rule: "vertebral-fracture"}}},
		{"vertebral-beside-wrist-on-day-0-met", key, flsPatient().visit("e2", day(0), "11", "99213", "S22.000A"), []wantCase{{pops: met, rule: "vertebral-fracture"}}},
		{"vertebral-on-day-1-is-no-index", key, flsPatient().visit("e2", day(1), "11", "99213", "S22.000A"), []wantCase{{pops: notMet}}},
		{"man-counted", key, person("1950-05-10", clinical.Male).visit("e1", flsFracture, "21", "99223", "S32.010A"), []wantCase{{pops: met}}},
	})
	m := mustMeasure(t, key)
	for rate, want := range map[float64]Band{0.25: BandGreen, 0.20: BandGreen, 0.199: BandAmber, 0.10: BandAmber, 0.099: BandRed} {
		if got := m.BandOf(&rate); got != want {
			t.Errorf("a rate of %v is %s, want %s (FLS-DB KPI 3: green from 20%%, amber from 10%%)", rate, got, want)
		}
	}
}

// The vertebral fractures KPI 3 counts are exactly #418's fracture codes at
// the "vertebral" site of the sites file the refracture measure reads: one
// definition of the spine, kept in agreement.
func TestVertebralFractureListIsTheSitesFiles(t *testing.T) {
	codes := func(file string) []string {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if f := strings.Fields(l); len(f) >= 2 && !strings.HasPrefix(l, "#") {
				out = append(out, f[1])
			}
		}
		return out
	}
	var sites struct {
		Sites []struct {
			Site     string   `yaml:"site"`
			Prefixes []string `yaml:"prefixes"`
		} `yaml:"sites"`
	}
	b, err := os.ReadFile("../../measures/valuesets/fracture-sites.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &sites); err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for _, s := range sites.Sites {
		if s.Site == "vertebral" {
			prefixes = s.Prefixes
		}
	}
	var want []string
	for _, c := range codes("../../measures/mips-418/2025/diagnoses.txt") {
		if slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(c, p) }) {
			want = append(want, c)
		}
	}
	if got := codes("../../measures/valuesets/vertebral-fracture.txt"); len(prefixes) == 0 || !slices.Equal(got, want) {
		t.Errorf("valuesets/vertebral-fracture.txt has %d codes, #418's at the vertebral prefixes %v are %d", len(got), prefixes, len(want))
	}
}
