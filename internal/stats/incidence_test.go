package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// cohort10 is ten patients followed from an index fracture (days): E a
// refracture, D death before any refracture (the competing event), C
// censored. It has a refracture and a death on the same day (60) and a
// censoring on the same day as a refracture (120).
var cohort10 = []Subject{
	{30, Event}, {60, Competing}, {60, Event}, {90, Censored}, {120, Event},
	{120, Censored}, {200, Competing}, {365, Event}, {400, Censored}, {730, Competing},
}

// TestAalenJohansenHandWorked is the golden example, worked by hand.
// n is the risk set just before t, S(t−) the probability of neither event
// just before t; F₁ += S(t−)·d₁/n, F₂ += S(t−)·d₂/n, S = S(t−)·(1 − (d₁+d₂)/n).
//
//	t=30  n=10 d₁=1 d₂=0 c=0  S(t−)=1      F₁ = 0 + 1·1/10        = 1/10
//	                                       F₂ = 0
//	                                       S  = 1·9/10            = 9/10
//	t=60  n=9  d₁=1 d₂=1 c=0  S(t−)=9/10   F₁ = 1/10 + 9/10·1/9   = 2/10
//	                                       F₂ = 0 + 9/10·1/9      = 1/10
//	                                       S  = 9/10·7/9          = 7/10
//	t=90  censored only: no step; n 7 → 6
//	t=120 n=6  d₁=1 d₂=0 c=1  S(t−)=7/10   F₁ = 2/10 + 7/10·1/6   = 19/60
//	      (the censored patient is at risk for the refracture)
//	                                       S  = 7/10·5/6          = 7/12
//	t=200 n=4  d₁=0 d₂=1      S(t−)=7/12   F₂ = 1/10 + 7/12·1/4   = 59/240
//	                                       S  = 7/12·3/4          = 7/16
//	t=365 n=3  d₁=1 d₂=0      S(t−)=7/16   F₁ = 19/60 + 7/16·1/3  = 111/240
//	                                       S  = 7/16·2/3          = 7/24
//	t=400 censored only: no step; n 2 → 1
//	t=730 n=1  d₁=0 d₂=1      S(t−)=7/24   F₂ = 59/240 + 7/24·1/1 = 129/240
//	                                       S  = 0
//
// At the end F₁ + F₂ = 111/240 + 129/240 = 1: everyone has had one event or
// the other once the last patient has died.
func TestAalenJohansenHandWorked(t *testing.T) {
	want := []Step{
		{Time: 30, AtRisk: 10, Events: 1, Survival: 9. / 10, CIF: 1. / 10},
		{Time: 60, AtRisk: 9, Events: 1, Competing: 1, Survival: 7. / 10, CIF: 2. / 10, CompetingCIF: 1. / 10},
		{Time: 120, AtRisk: 6, Events: 1, Censored: 1, Survival: 7. / 12, CIF: 19. / 60, CompetingCIF: 1. / 10},
		{Time: 200, AtRisk: 4, Competing: 1, Survival: 7. / 16, CIF: 19. / 60, CompetingCIF: 59. / 240},
		{Time: 365, AtRisk: 3, Events: 1, Survival: 7. / 24, CIF: 111. / 240, CompetingCIF: 59. / 240},
		{Time: 730, AtRisk: 1, Competing: 1, Survival: 0, CIF: 111. / 240, CompetingCIF: 129. / 240},
	}
	inc, err := CumulativeIncidence(cohort10)
	if err != nil {
		t.Fatal(err)
	}
	if inc.N != 10 || inc.MaxTime != 730 {
		t.Errorf("N, MaxTime = %d, %v; want 10, 730", inc.N, inc.MaxTime)
	}
	if !slices.EqualFunc(inc.Steps, want, stepsClose) {
		t.Fatalf("steps:\n got %+v\nwant %+v", inc.Steps, want)
	}
	// Read at the FLS horizons (fls.md §6.3: 1 and 2 years) and around steps.
	reads := []struct {
		name                 string
		t                    float64
		cif, competing, surv float64
	}{
		{"before the first event", 29, 0, 0, 1},
		{"on an event's day, that event included", 30, 1. / 10, 0, 9. / 10},
		{"between steps, the earlier step holds", 119, 2. / 10, 1. / 10, 7. / 10},
		{"at 1 year", 365, 111. / 240, 59. / 240, 7. / 24},
		{"at 2 years", 730, 111. / 240, 129. / 240, 0},
	}
	for _, r := range reads {
		t.Run(r.name, func(t *testing.T) {
			if got := inc.At(r.t); !near(got, r.cif) {
				t.Errorf("At(%v) = %v, want %v", r.t, got, r.cif)
			}
			if got := inc.CompetingAt(r.t); !near(got, r.competing) {
				t.Errorf("CompetingAt(%v) = %v, want %v", r.t, got, r.competing)
			}
			if got := inc.SurvivalAt(r.t); !near(got, r.surv) {
				t.Errorf("SurvivalAt(%v) = %v, want %v", r.t, got, r.surv)
			}
		})
	}
}

// TestWithoutCompetingEventsCIFIsOneMinusKaplanMeier: with no deaths the
// Aalen–Johansen estimate is 1 − Kaplan–Meier. The Kaplan–Meier estimate of
// this cohort, worked by hand (censored at 5 counted at risk at 5):
//
//	t=3  n=7 d=1  S = 6/7
//	t=5  n=6 d=2  S = 6/7·4/6 = 4/7
//	t=8  censored: n 3 → 2
//	t=10 n=2 d=1  S = 4/7·1/2 = 2/7
func TestWithoutCompetingEventsCIFIsOneMinusKaplanMeier(t *testing.T) {
	cohort := []Subject{{3, Event}, {5, Event}, {5, Event}, {5, Censored}, {8, Censored}, {10, Event}, {12, Censored}}
	km := []struct{ t, s float64 }{{3, 6. / 7}, {5, 4. / 7}, {10, 2. / 7}}
	inc, err := CumulativeIncidence(cohort)
	if err != nil {
		t.Fatal(err)
	}
	if len(inc.Steps) != len(km) {
		t.Fatalf("%d steps, want %d: %+v", len(inc.Steps), len(km), inc.Steps)
	}
	for i, k := range km {
		s := inc.Steps[i]
		if s.Time != k.t || !near(s.Survival, k.s) || !near(s.CIF, 1-k.s) || s.CompetingCIF != 0 {
			t.Errorf("step %d = %+v; want t=%v S=%v CIF=%v", i, s, k.t, k.s, 1-k.s)
		}
	}
}

// TestOneMinusKaplanMeierOverstatesIncidence shows what fls.md §6.3 warns
// of: treating deaths as censored and reporting 1 − Kaplan–Meier counts the
// dead as if they could still refracture. In cohort10, by hand:
//
//	t=30  n=10 d=1  KM = 9/10
//	t=60  n=9  d=1  KM = 9/10·8/9 = 8/10   (the death at 60 censored after it)
//	t=120 n=6  d=1  KM = 8/10·5/6 = 2/3
//	t=365 n=3  d=1  KM = 2/3·2/3  = 4/9    (the death at 200 censored)
//
// so 1 − KM at one year is 5/9 ≈ 0.556, where Aalen–Johansen gives
// 111/240 ≈ 0.463: a fifth more refractures than happened.
func TestOneMinusKaplanMeierOverstatesIncidence(t *testing.T) {
	deathsCensored := slices.Clone(cohort10)
	for i := range deathsCensored {
		if deathsCensored[i].Outcome == Competing {
			deathsCensored[i].Outcome = Censored
		}
	}
	naive, err := CumulativeIncidence(deathsCensored)
	if err != nil {
		t.Fatal(err)
	}
	aj, err := CumulativeIncidence(cohort10)
	if err != nil {
		t.Fatal(err)
	}
	if got := naive.At(365); !near(got, 5./9) {
		t.Fatalf("1 − KM at 365 = %v, want 5/9 (worked above)", got)
	}
	// Up to the first death's day they agree: a death changes only the risk
	// of refractures after it.
	for _, day := range []float64{30, 59, 60} {
		if !near(naive.At(day), aj.At(day)) {
			t.Errorf("day %v: 1 − KM %v ≠ Aalen–Johansen %v before any death counts", day, naive.At(day), aj.At(day))
		}
	}
	for _, day := range []float64{120, 365, 730} {
		if !(aj.At(day) < naive.At(day)) {
			t.Errorf("day %v: Aalen–Johansen %v not below 1 − KM %v", day, aj.At(day), naive.At(day))
		}
	}
}

// TestIncidencesAndSurvivalAddUp: F₁ + F₂ = 1 − S at every step, on random
// cohorts with many ties (follow-up in whole days, as the registry has it).
func TestIncidencesAndSurvivalAddUp(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		cohort := make([]Subject, 1+rng.IntN(400))
		for i := range cohort {
			cohort[i] = Subject{Time: float64(rng.IntN(120)), Outcome: Outcome(rng.IntN(3))}
		}
		inc, err := CumulativeIncidence(cohort)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range inc.Steps {
			if math.Abs(s.CIF+s.CompetingCIF-(1-s.Survival)) > 1e-12 {
				t.Fatalf("trial %d, t=%v: F₁ %v + F₂ %v ≠ 1 − S %v", trial, s.Time, s.CIF, s.CompetingCIF, 1-s.Survival)
			}
		}
	}
}

func TestNoEventsNoIncidence(t *testing.T) {
	tests := []struct {
		name    string
		cohort  []Subject
		n       int
		maxTime float64
	}{
		{"everyone censored", []Subject{{100, Censored}, {365, Censored}, {800, Censored}}, 3, 800},
		{"no subjects", nil, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			inc, err := CumulativeIncidence(tc.cohort)
			if err != nil {
				t.Fatal(err)
			}
			if inc.N != tc.n || inc.MaxTime != tc.maxTime || len(inc.Steps) != 0 {
				t.Errorf("got %+v", inc)
			}
			if inc.At(365) != 0 || inc.CompetingAt(365) != 0 || inc.SurvivalAt(365) != 1 {
				t.Errorf("at 365: %v, %v, %v; want 0, 0, 1", inc.At(365), inc.CompetingAt(365), inc.SurvivalAt(365))
			}
		})
	}
}

func TestEventOnTheIndexDate(t *testing.T) {
	// Treated on the fracture date: time 0 is a valid event time.
	inc, err := CumulativeIncidence([]Subject{{0, Event}, {10, Censored}})
	if err != nil {
		t.Fatal(err)
	}
	if inc.At(0) != 0.5 {
		t.Errorf("At(0) = %v, want 1/2", inc.At(0))
	}
}

func TestCumulativeIncidenceRefusesBadSubjects(t *testing.T) {
	tests := []struct {
		name    string
		subject Subject
	}{
		{"negative time", Subject{-1, Event}},
		{"NaN time", Subject{math.NaN(), Event}},
		{"infinite time", Subject{math.Inf(1), Censored}},
		{"unknown outcome", Subject{10, Outcome(7)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := CumulativeIncidence([]Subject{{5, Event}, tc.subject}); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestCumulativeIncidenceLeavesInputAlone(t *testing.T) {
	in := slices.Clone(cohort10)
	slices.Reverse(in)
	orig := slices.Clone(in)
	if _, err := CumulativeIncidence(in); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(in, orig) {
		t.Error("input reordered")
	}
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

func stepsClose(a, b Step) bool {
	return a.Time == b.Time && a.AtRisk == b.AtRisk && a.Events == b.Events && a.Competing == b.Competing &&
		a.Censored == b.Censored && near(a.Survival, b.Survival) && near(a.CIF, b.CIF) && near(a.CompetingCIF, b.CompetingCIF)
}
