package measure

import (
	"fmt"
	"path"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// follow is what a time-to-event measure follows each case for: from the
// index date to its event, a competing death, or the end of follow-up
// (the window's end, the end of coverage or the data cut-off), whichever
// comes first (fls.md §6.3).
//
// Two events are known. firstFill: the first record of a medication list
// (time to treatment, a continuous measure observing the days). refracture:
// the first fracture after the index fracture that is not the index's own
// follow-up coding (a ratio measure: events over person-years).
type follow struct {
	kind       followKind
	label      string // names the event in evidence: "osteoporosis treatment"
	mask       uint64 // firstFill: the list's role bit
	fills      rule   // firstFill: which records count
	win        window
	atDeath    bool
	atCoverEnd bool
	atCutoff   bool
	horizons   []int // days at which cumulative incidence is reported
	byDays     int   // firstFill: the numerator is an event by this day; -1: any event

	blanking int    // refracture: fractures up to this many days after the index are its own
	sameSite int    // refracture: and at the index's site, up to this many
	sites    []site // refracture and strata: a fracture code's site

	ageBands  []int    // strata: lower bounds of the age bands, ascending
	bandNames []string // "under 50", "50-64", ..., "85+": one more than ageBands
	indexSite bool
	setting   bool
	careHome  bool
}

type followKind uint8

const (
	followFirstFill followKind = iota
	followRefracture
)

// site is a skeletal site and the code prefixes that name it.
type site struct {
	name     string
	prefixes []string
}

// otherSite is the site of a fracture code no listed site names.
const otherSite = "other"

// siteOf returns the site of a fracture code.
func (f *follow) siteOf(code clinical.Code) string {
	if code.System != clinical.ICD10CM {
		return otherSite
	}
	for _, s := range f.sites {
		for _, p := range s.prefixes {
			if strings.HasPrefix(code.Code, p) {
				return s.name
			}
		}
	}
	return otherSite
}

// followYAML is spec.yaml's followUp block. See measures/README.md,
// "Follow-up".
type followYAML struct {
	Event    string   `yaml:"event"` // firstFill | refracture
	Label    string   `yaml:"label"`
	ValueSet string   `yaml:"valueSet"` // firstFill
	MedKinds []string `yaml:"medKinds"` // firstFill
	Window   []string `yaml:"window"`
	Ends     []string `yaml:"ends"` // death, disenrollment, cutoff
	Horizons []int    `yaml:"horizons"`
	// NumeratorBy: a firstFill case is in the numerator with its event on
	// or before this day (16 weeks: 112).
	NumeratorBy  *int `yaml:"numeratorBy"`
	BlankingDays int  `yaml:"blankingDays"`
	SameSiteDays int  `yaml:"sameSiteDays"`
}

type strataYAML struct {
	AgeBands  []int `yaml:"ageBands"`
	IndexSite bool  `yaml:"indexSite"`
	Setting   bool  `yaml:"setting"`
	CareHome  bool  `yaml:"careHome"`
}

type sitesYAML struct {
	Source string `yaml:"source"`
	Sites  []struct {
		Site     string   `yaml:"site"`
		Prefixes []string `yaml:"prefixes"`
	} `yaml:"sites"`
}

// followUp compiles a time-to-event measure's followUp and strata.
func (c *compiler) followUp(s *specYAML, intake *clinical.Period) error {
	const f = "followUp"
	y := s.FollowUp
	fo := &follow{label: y.Label, byDays: -1}
	switch {
	case y.Event == "firstFill" && c.m.Scoring == Continuous:
		fo.kind = followFirstFill
		_, mask, err := c.valueSetList(f+".valueSet", y.ValueSet, "firstFill")
		if err != nil {
			return err
		}
		fo.mask = mask
		fo.fills = rule{kind: kindMedication, mask: mask}
		if len(y.MedKinds) == 0 {
			return c.errf(f+".medKinds", "required: which records are the event (e.g. dispense, administration)")
		}
		if fo.fills.medKinds, err = c.medKinds(f+".medKinds", y.MedKinds); err != nil {
			return err
		}
		if y.NumeratorBy != nil {
			if *y.NumeratorBy < 0 {
				return c.errf(f+".numeratorBy", "cannot be negative")
			}
			fo.byDays = *y.NumeratorBy
		}
	case y.Event == "refracture" && c.m.Scoring == Ratio:
		fo.kind = followRefracture
		if y.ValueSet != "" || len(y.MedKinds) > 0 || y.NumeratorBy != nil {
			return c.errf(f, "valueSet, medKinds and numeratorBy belong to firstFill; a refracture is a fracture of the eligibility's own list")
		}
		if y.BlankingDays < 0 || y.SameSiteDays < y.BlankingDays {
			return c.errf(f+".sameSiteDays", "blankingDays cannot be negative and sameSiteDays (%d) cannot be shorter than it (%d)", y.SameSiteDays, y.BlankingDays)
		}
		fo.blanking, fo.sameSite = y.BlankingDays, y.SameSiteDays
	case y.Event == "firstFill" || y.Event == "refracture":
		return c.errf("scoring", "a %s follow-up is scored %s", y.Event, map[string]Scoring{"firstFill": Continuous, "refracture": Ratio}[y.Event])
	default:
		return c.errf(f+".event", "%q: want firstFill (time to treatment) or refracture", y.Event)
	}
	if err := c.noProportionBlocks(s, "a time-to-event measure", "its followed event"); err != nil {
		return err
	}
	if c.m.episode == nil {
		return c.errf(f, "follows cases from their fracture: the measure needs an episode block")
	}
	if y.Label == "" {
		return c.errf(f+".label", "required (names the event in evidence, e.g. \"osteoporosis treatment\")")
	}
	var err error
	if fo.win, err = parseWindow(y.Window, c.m.period, intake); err != nil {
		return c.errf(f+".window", "%v", err)
	}
	if !fo.win.from.fromIndex || !fo.win.to.fromIndex {
		return c.errf(f+".window", "follow-up runs from the index date: both bounds are index-relative (e.g. [index, index+365d])")
	}
	ends, err := c.endsOf(f+".ends", y.Ends, "death", "disenrollment", "cutoff")
	if err != nil {
		return err
	}
	fo.atDeath, fo.atCoverEnd, fo.atCutoff = ends["death"], ends["disenrollment"], ends["cutoff"]
	if !fo.atDeath {
		return c.errf(f+".ends", "death must end follow-up: it is the competing event (fls.md §6.3)")
	}
	if len(y.Horizons) == 0 {
		return c.errf(f+".horizons", "required: the days at which cumulative incidence is reported (e.g. [365, 730])")
	}
	for i, h := range y.Horizons {
		if h <= 0 || (i > 0 && h <= y.Horizons[i-1]) {
			return c.errf(f+".horizons", "positive days in increasing order")
		}
	}
	fo.horizons = y.Horizons
	if s.Sites != "" {
		if fo.sites, err = c.compileSites("sites", s.Sites); err != nil {
			return err
		}
	}
	if st := s.Strata; st != nil {
		for i, b := range st.AgeBands {
			if b < 0 || (i > 0 && b <= st.AgeBands[i-1]) {
				return c.errf("strata.ageBands", "lower bounds of the bands, non-negative and increasing")
			}
		}
		fo.ageBands, fo.indexSite, fo.setting, fo.careHome = st.AgeBands, st.IndexSite, st.Setting, st.CareHome
		if len(st.AgeBands) > 0 {
			fo.bandNames = []string{fmt.Sprintf("under %d", st.AgeBands[0])}
			for i, lo := range st.AgeBands {
				if i+1 < len(st.AgeBands) {
					fo.bandNames = append(fo.bandNames, fmt.Sprintf("%d-%d", lo, st.AgeBands[i+1]-1))
				} else {
					fo.bandNames = append(fo.bandNames, fmt.Sprintf("%d+", lo))
				}
			}
		}
	}
	if (fo.kind == followRefracture || fo.indexSite) && fo.sites == nil {
		return c.errf("sites", "required: the refracture's same-site rule and the index-site stratum read the fracture's site")
	}
	c.m.follow, c.m.numWindow = fo, fo.win
	return nil
}

// compileSites reads a sites file: each site's ICD-10-CM code prefixes.
func (c *compiler) compileSites(field, rel string) ([]site, error) {
	file := path.Join(c.dir, rel)
	var y sitesYAML
	if err := decodeStrict(c.fsys, file, &y); err != nil {
		return nil, err
	}
	if y.Source == "" {
		return nil, &SpecError{File: file, Field: "source", Reason: "required: where the codes' meanings come from"}
	}
	var out []site
	seen := map[string]bool{}
	for i, s := range y.Sites {
		if s.Site == "" || s.Site == otherSite || seen[s.Site] || len(s.Prefixes) == 0 {
			return nil, &SpecError{File: file, Field: fmt.Sprintf("sites[%d]", i), Reason: fmt.Sprintf("a site needs a new name (not %q) and its code prefixes", otherSite)}
		}
		seen[s.Site] = true
		out = append(out, site{name: s.Site, prefixes: s.Prefixes})
	}
	return out, nil
}

// WithCutoff returns the measure with the day its data ends: follow-up
// that reaches it is censored there. The compiled measure is shared, not
// copied.
func (m *Measure) WithCutoff(day clinical.Date) *Measure {
	if m.follow == nil || !m.follow.atCutoff {
		return m
	}
	cp := *m
	cp.cutoff = day
	return &cp
}

// Horizons are the days at which a time-to-event measure reports the
// cumulative incidence of its event; nil for other measures.
func (m *Measure) Horizons() []int {
	if m.follow == nil {
		return nil
	}
	return m.follow.horizons
}

// followCase decides a time-to-event case: its populations, its outcome and
// follow-up, and its strata.
func (m *Measure) followCase(p *clinical.PatientData, sc *scratch, c *caseCtx) Case {
	f := m.follow
	k := m.newCase(p, c)
	k.Populations.add(InitialPopulation)
	k.Populations.add(MeasurePopulation)
	k.Evidence = append(k.Evidence, m.ippEvidence(p, sc, c))
	k.Strata = m.strata(p, sc, c)

	excluded := m.collect(p, sc, c, clinical.Period{}, CatExclusion, m.exclusions, MeasurePopulationExclusion, &k.Evidence)
	w := f.win.resolve(c)
	end, why := w.End, "the end of follow-up, "+m.relative(w.End, c.index)
	if f.atCutoff && m.cutoff != 0 && m.cutoff < end {
		end, why = m.cutoff, "the data cut-off"
	}
	if f.atCoverEnd && len(p.Coverage) > 0 {
		covEnd, ok := coveredThrough(p.Coverage, c.index, end)
		switch {
		case !ok:
			excluded = true
			k.Evidence = append(k.Evidence, Evidence{Population: MeasurePopulationExclusion, Rule: "not-enrolled", RecordIDs: coverageIDs(p),
				Text: fmt.Sprintf("No coverage on the %s's date, %s: follow-up cannot start.", m.episode.label, c.index)})
		case covEnd < end:
			end, why = covEnd, "the end of coverage"
		}
	}
	if end < c.index {
		excluded = true
		k.Evidence = append(k.Evidence, Evidence{Population: MeasurePopulationExclusion, Rule: "no-follow-up", RecordIDs: []string{},
			Text: fmt.Sprintf("The data end on %s, before the %s on %s: there is no follow-up.", end, m.episode.label, c.index)})
	}
	if excluded {
		k.Populations.add(MeasurePopulationExclusion)
		return k
	}

	var ev *hit
	var evText string
	switch f.kind {
	case followFirstFill:
		ev = m.firstFill(p, sc, c.index, end)
	case followRefracture:
		ev, evText = m.refracture(p, sc, c, end)
	}
	death := p.Patient.DeathDate
	switch {
	case ev != nil && (!death.Valid || ev.date <= death.Date):
		k.Outcome, k.FollowUp = OutcomeEvent, ev.date.DaysSince(c.index)
		pop, text := Numerator, fmt.Sprintf("%s on %s (%s): %s", capital(f.label), ev.date, m.relative(ev.date, c.index), m.codeText(hitCode(p, ev)))
		if evText != "" {
			text += " " + evText
		}
		text += fmt.Sprintf(" (record %s).", recordID(p, ev))
		if f.byDays >= 0 && k.FollowUp > f.byDays {
			pop = MeasurePopulation
			text += fmt.Sprintf(" That is after day %d, so the case is not in the numerator.", f.byDays)
		} else {
			k.Populations.add(Numerator)
		}
		k.Evidence = append(k.Evidence, Evidence{Population: pop, Rule: "event", RecordIDs: []string{recordID(p, ev)}, Text: text})
	case death.Valid && death.Date <= end:
		k.Outcome, k.FollowUp = OutcomeCompeting, death.Date.DaysSince(c.index)
		k.Evidence = append(k.Evidence, Evidence{Population: MeasurePopulation, Rule: "death", RecordIDs: []string{p.Patient.SourceID},
			Text: fmt.Sprintf("Died on %s (%s) with no %s before: a competing event.", death.Date, m.relative(death.Date, c.index), f.label)})
	default:
		k.Outcome, k.FollowUp = OutcomeCensored, end.DaysSince(c.index)
		k.Evidence = append(k.Evidence, Evidence{Population: MeasurePopulation, Rule: "censored", RecordIDs: []string{},
			Text: fmt.Sprintf("No %s up to %s, %s: followed for %d days, censored.", f.label, end, why, k.FollowUp)})
	}
	if k.Outcome == OutcomeEvent {
		k.Evidence = append(k.Evidence, Evidence{Population: MeasurePopulation, Rule: "follow-up", RecordIDs: []string{},
			Text: fmt.Sprintf("Followed from the %s on %s for %d days, to the %s.", m.episode.label, c.index, k.FollowUp, f.label)})
	}
	switch f.kind {
	case followFirstFill:
		if k.Outcome == OutcomeEvent {
			k.Observation, k.Observed = float64(k.FollowUp), true
		}
	case followRefracture:
		// Person-time runs from the index date to the end of follow-up;
		// the observation is that follow-up in days.
		k.Observation, k.Observed = float64(k.FollowUp), true
		k.PersonYears = float64(k.FollowUp) / daysPerYear
		if k.Outcome == OutcomeEvent {
			k.Events = 1
		}
	}
	return k
}

// daysPerYear turns follow-up days into person-years (the Julian year).
const daysPerYear = 365.25

func coverageIDs(p *clinical.PatientData) []string {
	ids := make([]string, len(p.Coverage))
	for i, cv := range p.Coverage {
		ids[i] = cv.SourceID
	}
	return ids
}

// firstFill is the earliest record of the follow-up's list from the index
// to end, both included.
func (m *Measure) firstFill(p *clinical.PatientData, sc *scratch, from, to clinical.Date) *hit {
	f := m.follow
	var first *hit
	for hi := range sc.hits {
		h := &sc.hits[hi]
		if h.roles&f.mask != 0 && h.date >= from && h.date <= to && (first == nil || h.date < first.date) && f.fills.accepts(p, h) {
			first = h
		}
	}
	return first
}

// refracture is the first fracture after the index one, up to end, that is
// not the index fracture's own coding: none in the blanking window after
// the index, none at the index's site up to sameSite days. The eligibility
// lists carry initial-encounter codes only (7th character A, B or C), so
// a visit coded as the index fracture's aftercare (D, G, K...) is no
// fracture here at all.
func (m *Measure) refracture(p *clinical.PatientData, sc *scratch, c *caseCtx, end clinical.Date) (*hit, string) {
	f := m.follow
	indexSite := f.siteOf(hitCode(p, &sc.hits[sc.occ[c.occ].hit]))
	var first *hit
	var firstSite string
	for hi := range sc.hits {
		h := &sc.hits[hi]
		if h.roles&m.fractureMask == 0 || (h.src != srcEncDx && h.src != srcCond) || h.date > end || (first != nil && h.date >= first.date) {
			continue
		}
		days := h.date.DaysSince(c.index)
		if days <= f.blanking {
			continue
		}
		s := f.siteOf(hitCode(p, h))
		if s == indexSite && days <= f.sameSite {
			continue
		}
		first, firstSite = h, s
	}
	if first == nil {
		return nil, ""
	}
	if firstSite == indexSite {
		return first, fmt.Sprintf("at the index fracture's site (%s), more than %d days after it", indexSite, f.sameSite)
	}
	return first, fmt.Sprintf("at another site (%s; the index fracture's: %s), more than %d days after it", firstSite, indexSite, f.blanking)
}

// The strata a time-to-event measure reports beside the supplemental data
// (fls.md §7: age band, index site, inpatient or outpatient, care home).
const (
	StratumAgeBand   = "ageBand"
	StratumIndexSite = "indexSite"
	StratumSetting   = "setting"
	StratumCareHome  = "careHome"
)

func (m *Measure) strata(p *clinical.PatientData, sc *scratch, c *caseCtx) []Stratum {
	f := m.follow
	out := make([]Stratum, 0, 4)
	if len(f.ageBands) > 0 {
		age, _ := p.Patient.Ages(c.ageDate)
		band := 0 // under the first band
		for i, lo := range f.ageBands {
			if age >= lo {
				band = i + 1
			}
		}
		out = append(out, Stratum{StratumAgeBand, f.bandNames[band]})
	}
	if f.indexSite {
		out = append(out, Stratum{StratumIndexSite, f.siteOf(hitCode(p, &sc.hits[sc.occ[c.occ].hit]))})
	}
	if f.setting {
		setting := "outpatient"
		if o := sc.occ[c.occ]; o.enc >= 0 && p.Encounters[o.enc].Class == clinical.Inpatient {
			setting = "inpatient"
		}
		out = append(out, Stratum{StratumSetting, setting})
	}
	if f.careHome {
		out = append(out, Stratum{StratumCareHome, residenceOn(p, c.index)})
	}
	return out
}

// residenceOn is where the patient lived on day by the latest residence
// record covering it: "care_home", "own_home", "other", or "unknown".
func residenceOn(p *clinical.PatientData, day clinical.Date) string {
	res, from := "unknown", clinical.Date(0)
	for i := range p.CareEvents {
		e := &p.CareEvents[i]
		if e.Kind != clinical.CareResidence || e.Date > day || (e.End.Valid && e.End.Date < day) || e.Date < from {
			continue
		}
		res, from = string(e.Residence), e.Date
	}
	return res
}
