package report

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/liaison-registry/liaison/internal/benchmarks"
	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
)

// CaseMinimum is the MIPS case minimum: a measure is scored against its
// benchmark only with at least 20 cases (reference/fls.md §7). We count the
// cases in the rate, the denominator less exclusions and exceptions.
const CaseMinimum = 20

// CompletenessThreshold is the MIPS data-completeness threshold of a
// performance year, in percent: the share of eligible cases that must be
// reported. 42 CFR §414.1340 as set by each year's QPP/PFS final rule:
// 50% (2017), 60% (2018-2019), 70% (2020-2023), 75% (2024-2026)
// (reference/measures.md §8 [S14] for 2024 on, fls.md §7 for 2020).
// 0 for years outside MIPS or not yet set.
func CompletenessThreshold(year int) float64 {
	switch {
	case year == 2017:
		return 50
	case year >= 2018 && year <= 2019:
		return 60
	case year >= 2020 && year <= 2023:
		return 70
	case year >= 2024 && year <= 2026:
		return 75
	}
	return 0
}

// Measure is what a report needs of a measure version.
type Measure struct {
	Key, Title string
	Period     clinical.Period
	Basis      string // "episode" or "patient"
	Desc       measure.Description
	Benchmark  *benchmarks.Benchmark // nil: CMS published none for this measure, year and collection type
}

// MeasureOf describes a compiled measure version, with CMS's MIPS CQM
// (registry) benchmark of its performance year when it is a MIPS measure.
func MeasureOf(m *measure.Measure) Measure {
	r := Measure{Key: m.Key(), Title: m.Title, Period: m.Period(), Basis: m.Basis(), Desc: m.Describe()}
	if id, ok := strings.CutPrefix(m.ID, "mips-"); ok && m.Program == "mips" {
		if b, ok := benchmarks.Lookup(id, m.Period().Start.Year(), benchmarks.Registry); ok {
			r.Benchmark = &b
		}
	}
	return r
}

// Run is one finished evaluation run as a report needs it.
type Run struct {
	ID       string
	Measure  Measure
	Cutoff   clinical.Date // the data cut-off day: a case is open if due on or after it
	Finished time.Time     // when the run succeeded
	evaluation.Provenance
}

// Group is the counts of one practice (NPI "") or one physician in it.
type Group struct {
	TIN, NPI string
	Counts   measure.Counts
}

// RunData is one run's data for one practice: its cases (all of the TIN,
// or of one physician), the practice's counts and each physician's.
type RunData struct {
	Run        Run
	Practice   Group
	Physicians []Group
	Cases      []measure.Case
}

// Row is one measure's figures for a practice or a physician.
type Row struct {
	Measure   Measure
	TIN, NPI  string
	Counts    measure.Counts
	Rated     int      // cases in the rate: denominator - exclusions - exceptions
	Rate      *float64 // nil when no case is rated
	Low, High float64  // 95% Wilson interval
	Decile    int      // 1..10, 0 without a rate or a benchmark
	FewCases  bool     // Rated < CaseMinimum
	// Reported / eligible: the cases with an outcome (met, not met,
	// excluded, excepted) over the denominator. Liaison decides every case
	// it has data for, so this is the completeness of what the practice
	// sent, not of its whole eligible population, which Liaison cannot see.
	Reported          float64
	Threshold         float64 // the year's data-completeness threshold, 0 if none
	BelowCompleteness bool
}

// Summarize computes a row's figures from its counts.
func Summarize(m Measure, g Group) Row {
	c := g.Counts
	r := Row{Measure: m, TIN: g.TIN, NPI: g.NPI, Counts: c, Rated: c[measure.Numerator] + c[measure.PerformanceNotMet],
		Rate: c.Rate(), Threshold: CompletenessThreshold(m.Period.Start.Year())}
	r.FewCases = r.Rated < CaseMinimum
	if r.Rate != nil {
		r.Low, r.High = Wilson(c[measure.Numerator], r.Rated)
		if m.Benchmark != nil {
			r.Decile = m.Benchmark.Decile(*r.Rate)
		}
	}
	if c[measure.Denominator] > 0 {
		reported := c[measure.Numerator] + c[measure.PerformanceNotMet] + c[measure.DenominatorExclusion] + c[measure.DenominatorException]
		r.Reported = float64(min(reported, c[measure.Denominator])) / float64(c[measure.Denominator])
		r.BelowCompleteness = r.Threshold > 0 && r.Reported*100 < r.Threshold
	}
	return r
}

// Line says a row's result in one plain sentence, e.g. "14 of 31 women
// with a fracture had a BMD test or osteoporosis medication within 6
// months of it." patients is how many people the rated cases belong to
// (0 if unknown); for episode measures it tells a reader when one person
// had two fractures.
func Line(r Row, patients int) string {
	d := r.Measure.Desc
	subjects := d.Subjects
	if r.Rated == 1 {
		subjects = singular[subjects]
	}
	who := fmt.Sprintf("%s with a %s", subjects, d.IndexLabel)
	if r.Measure.Basis == "episode" && patients > 0 && patients < r.Rated {
		who = fmt.Sprintf("%ss (in %d %s)", d.IndexLabel, patients, d.Subjects)
	}
	var b strings.Builder
	excluded := r.Counts[measure.DenominatorExclusion] + r.Counts[measure.DenominatorException]
	if r.Rated == 0 {
		fmt.Fprintf(&b, "No %s were counted for this measure", who)
		if excluded > 0 {
			fmt.Fprintf(&b, " (%d excluded)", excluded)
		}
		return b.String() + "."
	}
	fmt.Fprintf(&b, "%d of %d %s had %s %s", r.Counts[measure.Numerator], r.Rated, who, plainWays(d.Ways), d.Window)
	if strings.HasPrefix(d.Window, "within ") {
		fmt.Fprintf(&b, " of the %s", d.IndexLabel)
	}
	if excluded == 1 {
		b.WriteString("; 1 more was not counted (excluded)")
	} else if excluded > 1 {
		fmt.Fprintf(&b, "; %d more were not counted (excluded)", excluded)
	}
	return b.String() + "."
}

var singular = map[string]string{"women": "woman", "patients": "patient"}

// plainWays names the clinical ways of meeting the numerator, leaving out
// quality-data codes unless they are the only way.
func plainWays(ways []string) string {
	var clinical []string
	for _, w := range ways {
		if !strings.HasPrefix(w, "quality-data code") {
			clinical = append(clinical, w)
		}
	}
	if len(clinical) == 0 {
		if len(ways) == 0 {
			return "the numerator met"
		}
		return strings.Join(ways, " or ") + " reported"
	}
	return article(clinical[0]) + " " + strings.Join(clinical, " or ")
}

func article(s string) string {
	if s != "" && strings.ContainsRune("aeiouAEIOU", rune(s[0])) {
		return "an"
	}
	return "a"
}

// Patients counts the distinct people among the rated cases.
func Patients(cases []measure.Case) int {
	seen := map[string]bool{}
	for _, c := range cases {
		if c.Populations.Has(measure.Numerator) || c.Populations.Has(measure.PerformanceNotMet) {
			seen[c.TIN+"\x00"+c.PatientID] = true
		}
	}
	return len(seen)
}

// Status is where a case stands at the data cut-off.
type Status string

const (
	Open        Status = "Open"      // in the denominator, not met, due date not passed
	Met         Status = "Met"       // performance met
	Missed      Status = "Missed"    // not met and the due date has passed
	Excluded    Status = "Excluded"  // denominator exclusion
	Exception   Status = "Exception" // denominator exception
	NotEligible Status = "Not in denominator"
)

// StatusOf places a case at the cut-off. Open matches ListCases' openOnly:
// in the denominator, not met, due on or after the cut-off day.
func StatusOf(c measure.Case, cutoff clinical.Date) Status {
	p := c.Populations
	switch {
	case !p.Has(measure.Denominator):
		return NotEligible
	case p.Has(measure.DenominatorExclusion):
		return Excluded
	case p.Has(measure.Numerator):
		return Met
	case p.Has(measure.DenominatorException):
		return Exception
	case c.DueDate >= cutoff:
		return Open
	}
	return Missed
}

// Item is one worklist line.
type Item struct {
	Status   Status
	Measure  Measure
	Case     measure.Case
	DaysLeft int    // open cases: days from the cut-off to the due date
	Code     string // the diagnosis that started the episode, if any
	Site     string // its site group
	CloseBy  string // open cases: what would close the gap, and by when
	Evidence string // every evidence sentence, in order
}

// EvidenceText is every evidence sentence of a case, in order.
func EvidenceText(c measure.Case) string {
	texts := make([]string, len(c.Evidence))
	for i, e := range c.Evidence {
		texts[i] = e.Text
	}
	return strings.Join(texts, " ")
}

// Worklist lists the cases of runs: open cases first, soonest due first,
// then every other case by due date. Ties go by patient and case id so the
// order is stable.
func Worklist(runs []RunData) []Item {
	var items []Item
	for _, rd := range runs {
		m, cutoff := rd.Run.Measure, rd.Run.Cutoff
		for _, c := range rd.Cases {
			it := Item{Status: StatusOf(c, cutoff), Measure: m, Case: c, Code: c.IndexDiagnosis()}
			it.Site = Site(it.Code)
			if it.Status == Open {
				it.DaysLeft = c.DueDate.DaysSince(cutoff)
				it.CloseBy = fmt.Sprintf("%s by %s", strings.Join(m.Desc.Ways, " or "), c.DueDate)
			}
			it.Evidence = EvidenceText(c)
			items = append(items, it)
		}
	}
	slices.SortStableFunc(items, func(a, b Item) int {
		if ao, bo := a.Status == Open, b.Status == Open; ao != bo {
			if ao {
				return -1
			}
			return 1
		}
		if a.Case.DueDate != b.Case.DueDate {
			return int(a.Case.DueDate - b.Case.DueDate)
		}
		return strings.Compare(a.Case.PatientID+"\x00"+a.Case.CaseID+"\x00"+a.Measure.Key, b.Case.PatientID+"\x00"+b.Case.CaseID+"\x00"+b.Measure.Key)
	})
	return items
}

// sites groups ICD-10-CM fracture codes by category (ICD-10-CM Tabular
// List, chapter 19 injury categories and M80/M48.5), into the index-site
// strata of reference/fls.md §7: hip, vertebral, distal forearm, proximal
// humerus, pelvis, other. Longest prefix wins.
var sites = []struct{ prefix, site string }{
	{"S72.0", "hip"}, {"S72.1", "hip"}, {"S72.2", "hip"}, {"S72", "femur (not hip)"},
	{"S12", "vertebral"}, {"S22.0", "vertebral"}, {"S32.0", "vertebral"}, {"M48.5", "vertebral"}, {"M80.08", "vertebral"},
	{"S52.5", "distal forearm"}, {"S52.6", "distal forearm"}, {"S52", "forearm"},
	{"S42.2", "proximal humerus"}, {"S42", "shoulder or upper arm"},
	{"S32", "pelvis"}, {"S22.3", "rib"}, {"S22.4", "rib"}, {"S82", "lower leg or ankle"},
	{"M80.05", "hip"}, {"M80.03", "distal forearm"}, {"M80.02", "proximal humerus"}, {"M80", "osteoporotic, other site"},
}

// Site names the body site of a fracture code; "" for no code.
func Site(code string) string {
	if code == "" {
		return ""
	}
	best, site := 0, "other"
	for _, s := range sites {
		if strings.HasPrefix(code, s.prefix) && len(s.prefix) > best {
			best, site = len(s.prefix), s.site
		}
	}
	return site
}
