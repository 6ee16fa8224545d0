package measure

import (
	"slices"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// The time-to-event measures (reference/fls.md §6.3) at the edges of their
// windows, follow-up ends and competing deaths. Every patient's index
// fracture is a distal-radius fracture (S52.501A) on 2025-02-19; day N is
// N days after it.

func wristFracture() *pb {
	return woman("1950-05-10").visit("e1", "2025-02-19", "11", "99213", "S52.501A")
}

func (b *pb) aom(id, date string) *pb {
	return b.med(id, clinical.MedDispense, date, clinical.RxNorm, "904431", 30) // alendronic acid 70 mg
}

func (b *pb) residence(id string, r clinical.Residence, from string) *pb {
	b.p.CareEvents = append(b.p.CareEvents, clinical.CareEvent{TIN: testTIN, SourceID: id, PatientID: "p1", Kind: clinical.CareResidence, Date: d(from), Residence: r})
	return b
}

// followed is what a followed case must come to.
type followed struct {
	pops     []string
	outcome  Outcome
	days     int
	observed bool
	events   int
	text     string // a phrase some evidence must hold
}

func checkFollowed(t *testing.T, m *Measure, b *pb, want followed) Case {
	t.Helper()
	got := m.Evaluate(b.p)
	if len(got) != 1 {
		t.Fatalf("%d cases, want 1: %+v", len(got), got)
	}
	c := got[0]
	if pops := popNames(c.Populations); !slices.Equal(pops, want.pops) {
		t.Errorf("populations %v, want %v; evidence: %s", pops, want.pops, evidenceText(c))
	}
	if c.Outcome != want.outcome || c.FollowUp != want.days || c.Observed != want.observed || c.Events != want.events {
		t.Errorf("outcome %q after %d days, observed %v, events %d; want %q after %d, observed %v, events %d; evidence: %s",
			c.Outcome, c.FollowUp, c.Observed, c.Events, want.outcome, want.days, want.observed, want.events, evidenceText(c))
	}
	if want.text != "" && !strings.Contains(evidenceText(c), want.text) {
		t.Errorf("evidence lacks %q: %s", want.text, evidenceText(c))
	}
	return c
}

func TestTimeToTreatmentEdges(t *testing.T) {
	m := mustMeasure(t, "time-to-treatment@2025")
	treated := []string{ipp, numer, mpop}
	followedOnly := []string{ipp, mpop}
	for _, tc := range []struct {
		name   string
		b      *pb
		cutoff string
		want   followed
	}{
		{"fill-on-the-fracture-day", wristFracture().aom("m1", "2025-02-19"), "", followed{treated, OutcomeEvent, 0, true, 0, "day 0"}},
		{"fill-on-day-112-is-by-16-weeks", wristFracture().aom("m1", "2025-06-11"), "", followed{treated, OutcomeEvent, 112, true, 0, ""}},
		{"fill-on-day-113-is-after-16-weeks", wristFracture().aom("m1", "2025-06-12"), "", followed{followedOnly, OutcomeEvent, 113, true, 0, "after day 112"}},
		{"first-of-two-fills", wristFracture().aom("m2", "2025-09-01").aom("m1", "2025-04-10"), "", followed{treated, OutcomeEvent, 50, true, 0, ""}},
		{"fill-on-day-365-is-followed", wristFracture().aom("m1", "2026-02-19"), "", followed{followedOnly, OutcomeEvent, 365, true, 0, ""}},
		{"fill-on-day-366-is-not", wristFracture().aom("m1", "2026-02-20"), "", followed{followedOnly, OutcomeCensored, 365, false, 0, "followed for 365 days, censored"}},
		{"untreated-censored-at-cutoff", wristFracture(), "2025-03-01", followed{followedOnly, OutcomeCensored, 10, false, 0, "the data cut-off"}},
		{"fill-after-cutoff-not-counted", wristFracture().aom("m1", "2025-03-02"), "2025-03-01", followed{followedOnly, OutcomeCensored, 10, false, 0, ""}},
		{"cutoff-after-window-changes-nothing", wristFracture(), "2026-06-30", followed{followedOnly, OutcomeCensored, 365, false, 0, ""}},
		{"death-untreated-competes", wristFracture().died("2025-04-10"), "", followed{followedOnly, OutcomeCompeting, 50, false, 0, "a competing event"}},
		{"treated-on-the-day-of-death", wristFracture().aom("m1", "2025-04-10").died("2025-04-10"), "", followed{treated, OutcomeEvent, 50, true, 0, ""}},
		{"coverage-ends-day-40", wristFracture().coverage("2024-01-01", "2025-03-31"), "", followed{followedOnly, OutcomeCensored, 40, false, 0, "the end of coverage"}},
		{"no-coverage-on-the-fracture-day", wristFracture().coverage("2025-03-01", "2025-12-31"), "", followed{[]string{ipp, mpop, mpex}, OutcomeNone, 0, false, 0, "not"}},
		{"on-treatment-before-the-fracture", wristFracture().aom("m0", "2024-12-01").aom("m1", "2025-03-01"), "", followed{[]string{ipp, mpop, mpex}, OutcomeNone, 0, false, 0, "year before the fracture"}},
		{"fill-366-days-before-is-not-prior-therapy", wristFracture().aom("m0", "2024-02-18").aom("m1", "2025-03-01"), "", followed{treated, OutcomeEvent, 10, true, 0, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mm := m
			if tc.cutoff != "" {
				mm = m.WithCutoff(d(tc.cutoff))
			}
			checkFollowed(t, mm, tc.b, tc.want)
		})
	}
}

func TestRefractureEdges(t *testing.T) {
	m := mustMeasure(t, "refracture@2025")
	event := []string{ipp, numer, mpop}
	none := []string{ipp, mpop}
	hip := func(date string) *pb { return wristFracture().visit("e2", date, "21", "99223", "S72.001A") }
	wristAgain := func(date string) *pb { return wristFracture().visit("e2", date, "11", "99213", "S52.502A") }
	for _, tc := range []struct {
		name   string
		b      *pb
		cutoff string
		want   followed
	}{
		{"other-site-on-day-90-is-blanked", hip("2025-05-20"), "", followed{none, OutcomeCensored, 730, true, 0, ""}},
		{"other-site-on-day-91-counts", hip("2025-05-21"), "", followed{event, OutcomeEvent, 91, true, 1, "another site (hip"}},
		{"same-site-on-day-180-is-the-index-fracture", wristAgain("2025-08-18"), "", followed{none, OutcomeCensored, 730, true, 0, ""}},
		{"same-site-on-day-181-counts", wristAgain("2025-08-19"), "", followed{event, OutcomeEvent, 181, true, 1, "at the index fracture's site (distal forearm)"}},
		{"refracture-on-day-730-counts", hip("2027-02-19"), "", followed{event, OutcomeEvent, 730, true, 1, ""}},
		{"refracture-on-day-731-does-not", hip("2027-02-20"), "", followed{none, OutcomeCensored, 730, true, 0, ""}},
		{"death-competes", wristFracture().died("2025-09-07"), "", followed{none, OutcomeCompeting, 200, true, 0, "a competing event"}},
		{"refracture-then-death", hip("2025-08-19").died("2025-09-07"), "", followed{event, OutcomeEvent, 181, true, 1, ""}},
		{"cutoff-censors", hip("2025-08-19"), "2025-08-18", followed{none, OutcomeCensored, 180, true, 0, "the data cut-off"}},
		{"aftercare-code-is-no-fracture", wristFracture().visit("e2", "2025-12-01", "11", "99213", "S72.001D"), "", followed{none, OutcomeCensored, 730, true, 0, ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mm := m
			if tc.cutoff != "" {
				mm = m.WithCutoff(d(tc.cutoff))
			}
			c := checkFollowed(t, mm, tc.b, tc.want)
			if py := float64(c.FollowUp) / 365.25; c.PersonYears != py {
				t.Errorf("person-years %v, want %v", c.PersonYears, py)
			}
		})
	}
}

// A refracture measure counts patients, not episodes: the year's first
// fracture is the index and a later one in the same year its refracture.
func TestRefractureIndexIsTheFirstFracture(t *testing.T) {
	m := mustMeasure(t, "refracture@2025")
	b := wristFracture().visit("e2", "2025-10-01", "21", "99223", "S72.001A")
	c := checkFollowed(t, m, b, followed{[]string{ipp, numer, mpop}, OutcomeEvent, 224, true, 1, ""})
	if c.IndexDate != d("2025-02-19") {
		t.Errorf("index %s, want the first fracture's date", c.IndexDate)
	}
}

func TestFollowedStrata(t *testing.T) {
	m := mustMeasure(t, "refracture@2025")
	strata := func(c Case) map[string]string {
		out := map[string]string{}
		for _, s := range c.Strata {
			out[s.Name] = s.Value
		}
		return out
	}
	for _, tc := range []struct {
		name string
		b    *pb
		want map[string]string
	}{
		// Born 1960-02-20: 64 on the day before the 65th birthday.
		{"age-64-on-the-fracture-day", woman("1960-02-20").visit("e1", "2025-02-19", "11", "99213", "S52.501A"),
			map[string]string{StratumAgeBand: "50-64", StratumIndexSite: "distal forearm", StratumSetting: "outpatient", StratumCareHome: "unknown"}},
		{"age-65-on-the-birthday", woman("1960-02-19").visit("e1", "2025-02-19", "11", "99213", "S52.501A"),
			map[string]string{StratumAgeBand: "65-74"}},
		// Born on 29 February: 85 on 1 March in a non-leap year, not on 28 February.
		{"leap-day-birth-84-on-28-february", woman("1940-02-29").visit("e1", "2025-02-28", "11", "99213", "S52.501A"),
			map[string]string{StratumAgeBand: "75-84"}},
		{"leap-day-birth-85-on-1-march", woman("1940-02-29").visit("e1", "2025-03-01", "11", "99213", "S52.501A"),
			map[string]string{StratumAgeBand: "85+"}},
		{"hip-inpatient", woman("1950-05-10").visit("e1", "2025-02-19", "21", "99223", "S72.001A").class(clinical.Inpatient, "2025-02-24"),
			map[string]string{StratumIndexSite: "hip", StratumSetting: "inpatient"}},
		{"vertebral", woman("1950-05-10").visit("e1", "2025-02-19", "11", "99213", "S32.010A"),
			map[string]string{StratumIndexSite: "vertebral"}},
		{"care-home-resident", wristFracture().residence("r1", clinical.ResidenceCareHome, "2024-06-01"),
			map[string]string{StratumCareHome: "care_home"}},
		{"moved-to-care-home-after-the-fracture", wristFracture().residence("r0", clinical.ResidenceOwnHome, "2020-01-01").residence("r1", clinical.ResidenceCareHome, "2025-02-20"),
			map[string]string{StratumCareHome: "own_home"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := m.Evaluate(tc.b.p)
			if len(got) != 1 {
				t.Fatalf("%d cases, want 1", len(got))
			}
			s := strata(got[0])
			for k, v := range tc.want {
				if s[k] != v {
					t.Errorf("stratum %s = %q, want %q (all: %v)", k, s[k], v, s)
				}
			}
		})
	}
}

// followSpec is a valid ratio measure following refractures.
const followSpec = `id: test-m
version: "2024"
program: test
scoring: ratio
unit: patient
ageOn: encounter
period: {start: 2024-01-01, end: 2024-12-31}
eligibility:
  minAge: 50
  options:
    - {group: "00", diagnoses: dx.txt, procedures: enc.txt}
episode: {index: fracture, label: fracture, newAfterDays: 60}
followUp:
  event: refracture
  label: subsequent fracture
  window: [index, index+730d]
  ends: [death, cutoff]
  blankingDays: 90
  sameSiteDays: 180
  horizons: [365, 730]
sites: sites.yaml
strata: {ageBands: [50, 65], indexSite: true}
`

const followSites = "source: ICD-10-CM FY2025\nsites:\n  - {site: hip, prefixes: [S72.0]}\n"

func TestValidFollowSpecLoads(t *testing.T) {
	m, err := Load(specFS(followSpec, map[string]string{"sites.yaml": followSites}), "test-m/2024")
	if err != nil {
		t.Fatal(err)
	}
	if m.Scoring != Ratio || !slices.Equal(m.Horizons(), []int{365, 730}) || m.Candidates().Coverage {
		t.Errorf("scoring %q, horizons %v, reads coverage %v", m.Scoring, m.Horizons(), m.Candidates().Coverage)
	}
}

// A follow-up that cannot be computed as written fails naming the file,
// the field and why.
func TestInvalidFollowSpecs(t *testing.T) {
	for _, tc := range []struct {
		name, from, to string
		sites          string // replaces followSites when set
		file, field    string
		reason         string
	}{
		{"unknown-event", "event: refracture", "event: fall", "", "spec.yaml", "followUp.event", `"fall": want firstFill`},
		{"first-fill-scored-ratio", "event: refracture", "event: firstFill", "", "spec.yaml", "scoring", "a firstFill follow-up is scored continuous"},
		{"no-label", "  label: subsequent fracture\n", "", "", "spec.yaml", "followUp.label", "required"},
		{"window-of-fixed-dates", "[index, index+730d]", "[periodStart, periodEnd]", "", "spec.yaml", "followUp.window", "index-relative"},
		{"death-does-not-end", "ends: [death, cutoff]", "ends: [cutoff]", "", "spec.yaml", "followUp.ends", "death must end follow-up"},
		{"unknown-end", "ends: [death, cutoff]", "ends: [death, transfer]", "", "spec.yaml", "followUp.ends", `"transfer": want death, disenrollment, cutoff`},
		{"no-horizons", "  horizons: [365, 730]\n", "", "", "spec.yaml", "followUp.horizons", "required"},
		{"horizons-out-of-order", "horizons: [365, 730]", "horizons: [730, 365]", "", "spec.yaml", "followUp.horizons", "increasing"},
		{"same-site-shorter-than-blanking", "sameSiteDays: 180", "sameSiteDays: 30", "", "spec.yaml", "followUp.sameSiteDays", "cannot be shorter"},
		{"value-set-on-a-refracture", "  blankingDays: 90\n", "  blankingDays: 90\n  valueSet: x\n", "", "spec.yaml", "followUp", "belong to firstFill"},
		{"no-sites", "sites: sites.yaml\n", "", "", "spec.yaml", "sites", "required"},
		{"age-bands-out-of-order", "ageBands: [50, 65]", "ageBands: [65, 50]", "", "spec.yaml", "strata.ageBands", "increasing"},
		{"a-numerator-block", "sites: sites.yaml", "numerator:\n  window: [index, index+6m]\nsites: sites.yaml", "", "spec.yaml", "numerator", "numerator is its followed event"},
		{"sites-without-source", "", "", "sites:\n  - {site: hip, prefixes: [S72.0]}\n", "sites.yaml", "source", "required"},
		{"site-named-other", "", "", "source: x\nsites:\n  - {site: other, prefixes: [S72.0]}\n", "sites.yaml", "sites[0]", "a site needs a new name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec, sites := followSpec, followSites
			spec = editSpec(t, spec, tc.from, tc.to)
			if tc.sites != "" {
				sites = tc.sites
			}
			_, err := Load(specFS(spec, map[string]string{"sites.yaml": sites}), "test-m/2024")
			wantSpecError(t, err, "test-m/2024/"+tc.file, tc.field, tc.reason)
		})
	}
}
