package measure

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Unit says what a measure counts.
type Unit uint8

const (
	// UnitEpisode counts one case per fracture episode (418, 024, 040).
	UnitEpisode Unit = iota + 1
	// UnitPatient counts at most one case per patient (039, HEDIS OMW).
	UnitPatient
)

// Category is a CMS performance category of a quality-data code.
type Category uint8

const (
	CatMet Category = iota + 1
	CatNotMet
	CatExclusion
	CatException
)

var categoryNames = map[string]Category{
	"performanceMet": CatMet, "performanceNotMet": CatNotMet,
	"eligiblePopulationExclusion": CatExclusion, "eligiblePopulationException": CatException,
}

type ruleKind uint8

const (
	kindProcedure ruleKind = iota + 1
	kindMedication
	kindDiagnosis
	kindFlag
	kindDeath
	kindAge   // holds when the case's age is within minAge..maxAge
	kindAllOf // every sub-rule holds
	kindAnyOf // some sub-rule holds; minDates counts the dates of all that do
	kindCare  // a fracture-liaison care event of the listed kinds (clinical.CareEvent)
)

var ruleKinds = map[string]ruleKind{
	"procedure": kindProcedure, "medication": kindMedication, "diagnosis": kindDiagnosis,
	"flag": kindFlag, "death": kindDeath, "age": kindAge, "allOf": kindAllOf, "anyOf": kindAnyOf,
	"care": kindCare,
}

// maxMinDates bounds minDates so a match keeps its distinct dates in a
// fixed array: counting them allocates nothing.
const maxMinDates = 8

// Measure is one compiled measure version. It is immutable after Load, so
// one value serves any number of concurrent Evaluate calls.
type Measure struct {
	ID, Version, Title, Program string
	// Sources says where the generated lists came from; Provisional, why a
	// version is not final (lists or logic carried from an earlier year),
	// empty when it is. Runs, reports and the API repeat both.
	Sources     []string
	Provisional []string
	// Scoring is how the cases add up: proportion unless the spec says.
	Scoring Scoring
	// Bands are the RAG benchmark bands a rate is read against (FLS-DB,
	// IOF), nil for a measure without them.
	Bands *Bands

	unit           Unit
	period         clinical.Period
	intake         clinical.Period
	hasIntake      bool
	sex            clinical.Sex
	minAge, maxAge int // -1: no bound
	ageOnPeriodEnd bool

	options      []option
	fractureMask uint64 // diagnoses of every option: what starts an episode
	datedDx      uint64 // diagnoses of options valid only on some dates (fractureOn)
	optionProcs  uint64 // procedures of every option: what makes an encounter qualify
	episode      *episodeSpec
	enrollment   *enrollmentYAML

	qualityWindow    window
	hasQualityWindow bool
	quality          []qualityCode
	qualityMask      uint64

	numWindow  window // a continuous measure's: its observation window (the case's due date is its end)
	numerator  []rule
	filters    []rule
	requires   []rule // an episode is a case only when every one holds
	exclusions []rule
	exceptions []rule
	obs        *observation  // continuous measures: what each case observes
	follow     *follow       // time-to-event measures: the event each case is followed to
	cutoff     clinical.Date // the day the data end (WithCutoff); 0: not known

	codes codeIndex
	lists []codeList               // the code lists as named in the spec, for Compare
	names drugNames                // medications recognised by name (NAME, EXCLUDE lines)
	desc  map[clinical.Code]string // descriptions from the code lists

	// Where the version was compiled from, for SpecHash: the tree, its
	// folder, and every file read outside that folder.
	src      fs.FS
	dir      string
	borrowed []string
}

type episodeSpec struct {
	indexEncounter     bool // index = first qualifying encounter, not the fracture date
	label              string
	newAfterDays       int
	inpatientDischarge bool
	directTransfers    bool
	negativeHistory    bool
	resultingVisits    bool     // a visit that results in a stay is not its own episode
	historyExclPOS     []string // places of service whose fractures are ignored
}

type option struct {
	group    string
	dxMask   uint64
	procMask uint64
	classes  []clinical.EncounterClass
	posExcl  []string
	valid    clinical.Period // dates of service the option holds for
}

// openPeriod is the validity of an option that names no dates.
var openPeriod = clinical.Period{Start: everDate, End: clinical.Date(1 << 30)}

type rule struct {
	name, label    string
	kind           ruleKind
	mask           uint64
	medKinds       []clinical.MedicationKind // empty: any
	flag           clinical.FlagKind
	win            window
	hasWin         bool
	activeSupply   bool
	drugs          *drugTable // activeSupply rules: how long a dose recorded without its supply lasts
	minDays        int
	daysTotal      bool
	minAge, maxAge int
	excludePOS     []string
	minDates       int                 // 0: one match suffices
	encMask        uint64              // diagnosis rules: the encounter must carry a code of these lists
	sub            []rule              // allOf, anyOf
	care           []clinical.CareKind // care rules: the event kinds that count
	onTreatment    clinical.NullBool   // care rules: a monitoring contact's on-treatment answer, when asked
}

type qualityCode struct {
	cat            Category
	code           string
	mask           uint64
	mods, modEx    []string
	pos            []string
	minAge, maxAge int
}

// Period is the measurement (performance) period.
func (m *Measure) Period() clinical.Period { return m.period }

// Key is "<id>@<version>".
func (m *Measure) Key() string { return m.ID + "@" + m.Version }

type compiler struct {
	fsys  fs.FS
	dir   string
	file  string
	m     *Measure
	bits  map[string]uint      // value-set path or "qdc:"+code -> bit
	lists map[string]*valueSet // value-set path -> the list as read
	used  map[string]bool      // value-set names referenced by rules
	sets  map[string]string
	names map[string]string // rule name -> the field that defined it
}

func (c *compiler) errf(field, format string, a ...any) error {
	return &SpecError{File: c.file, Field: field, Reason: fmt.Sprintf(format, a...)}
}

func (c *compiler) nextBit(key string) (uint, error) {
	if b, ok := c.bits[key]; ok {
		return b, nil
	}
	if len(c.bits) == 64 {
		return 0, fmt.Errorf("more than 64 code lists and quality codes in one measure")
	}
	b := uint(len(c.bits))
	c.bits[key] = b
	return b, nil
}

// listMask loads a code-list file (path relative to the spec's folder) once
// and returns the role bit its codes carry.
func (c *compiler) listMask(field, rel string) (uint64, error) {
	_, mask, err := c.list(field, rel)
	return mask, err
}

// list is listMask that also returns the list as read.
func (c *compiler) list(field, rel string) (*valueSet, uint64, error) {
	p := path.Join(c.dir, rel)
	if !fs.ValidPath(p) {
		return nil, 0, c.errf(field, "%q leaves the measures folder", rel)
	}
	if vs, ok := c.lists[p]; ok {
		return vs, 1 << c.bits[p], nil
	}
	vs, err := readValueSet(c.fsys, p)
	if err != nil {
		return nil, 0, err
	}
	b, err := c.nextBit(p)
	if err != nil {
		return nil, 0, c.errf(field, "%v", err)
	}
	c.lists[p] = vs
	c.m.lists = append(c.m.lists, codeList{field: field, path: p, codes: vs.codes})
	c.m.names.add(vs, b)
	for _, code := range vs.codes {
		c.m.codes.add(code, b)
		if d := vs.desc[code]; d != "" {
			c.m.desc[code] = d
		}
	}
	return vs, 1 << b, nil
}

func (c *compiler) compile(s *specYAML) (*Measure, error) {
	m := &Measure{ID: s.ID, Version: s.Version, Title: s.Title, Program: s.Program, desc: map[clinical.Code]string{}}
	c.m = m
	c.bits = map[string]uint{}
	c.lists = map[string]*valueSet{}
	c.used = map[string]bool{}
	c.sets = s.ValueSets
	c.names = map[string]string{}

	if want := path.Base(path.Dir(c.dir)); s.ID != want {
		return nil, c.errf("id", "%q does not match its folder %q", s.ID, want)
	}
	if want := path.Base(c.dir); s.Version != want {
		return nil, c.errf("version", "%q does not match its folder %q", s.Version, want)
	}
	switch s.Unit {
	case "episode":
		m.unit = UnitEpisode
	case "patient":
		m.unit = UnitPatient
	default:
		return nil, c.errf("unit", "%q: want episode or patient", s.Unit)
	}
	switch s.AgeOn {
	case "encounter":
	case "periodEnd":
		m.ageOnPeriodEnd = true
	default:
		return nil, c.errf("ageOn", "%q: want encounter or periodEnd", s.AgeOn)
	}
	var err error
	if m.period, err = c.period("period", s.Period); err != nil {
		return nil, err
	}
	var intake *clinical.Period
	if s.Intake != nil {
		if m.intake, err = c.period("intake", s.Intake); err != nil {
			return nil, err
		}
		m.hasIntake, intake = true, &m.intake
	}
	if s.Provisional != "" {
		m.Provisional = append(m.Provisional, s.Provisional)
	}
	if m.Scoring, err = ParseScoring(s.Scoring); err != nil {
		return nil, c.errf("scoring", "%v", err)
	}
	switch {
	case s.Observation != nil && s.FollowUp != nil:
		return nil, c.errf("followUp", "a measure observes a value (observation) or follows cases to an event (followUp), not both")
	case m.Scoring == Continuous && s.Observation == nil && s.FollowUp == nil:
		return nil, c.errf("observation", "required for a continuous measure: the value each case observes, or a followUp (measures/README.md, \"Observations\")")
	case m.Scoring == Ratio && s.FollowUp == nil:
		return nil, c.errf("followUp", "required for a ratio measure: the event counted over person-time (measures/README.md, \"Follow-up\")")
	case m.Scoring == Continuous, m.Scoring == Ratio:
	case m.Scoring != Proportion:
		// The result model carries every scoring; the engine decides
		// proportion, continuous and ratio measures so far.
		return nil, c.errf("scoring", "%s measures are not evaluated by this engine yet", m.Scoring)
	case s.Observation != nil:
		return nil, c.errf("observation", "only a continuous measure observes a value per case (scoring: continuous)")
	case s.FollowUp != nil:
		return nil, c.errf("followUp", "a proportion measure follows no cases: use scoring continuous (time to an event) or ratio (events over person-time)")
	}
	if s.Strata != nil && s.FollowUp == nil {
		return nil, c.errf("strata", "only time-to-event measures (followUp) have strata of their own so far")
	}
	if err := c.eligibility(s); err != nil {
		return nil, err
	}
	if s.Episode != nil {
		e := s.Episode
		m.episode = &episodeSpec{label: e.Label, newAfterDays: e.NewAfterDays, directTransfers: e.DirectTransfers,
			negativeHistory: e.NegativeHistory && e.Index == "encounter", resultingVisits: e.VisitsResultingInStay, historyExclPOS: e.HistoryExcludePOS}
		switch e.Index {
		case "fracture":
		case "encounter":
			m.episode.indexEncounter = true
		default:
			return nil, c.errf("episode.index", "%q: want fracture or encounter", e.Index)
		}
		switch e.InpatientDate {
		case "":
		case "discharge":
			m.episode.inpatientDischarge = true
		default:
			return nil, c.errf("episode.inpatientDate", "%q: want discharge or nothing", e.InpatientDate)
		}
		if e.NegativeHistory && e.Index != "encounter" {
			return nil, c.errf("episode.negativeHistory", "applies to episodes indexed by their encounter")
		}
		if (e.DirectTransfers || e.VisitsResultingInStay) && !m.episode.inpatientDischarge {
			return nil, c.errf("episode", "directTransfers and visitsResultingInStay need inpatientDate: discharge")
		}
		if e.NewAfterDays <= 0 {
			return nil, c.errf("episode.newAfterDays", "must be a positive number of days")
		}
		if e.Label == "" {
			return nil, c.errf("episode.label", "required (names the index event in evidence, e.g. fracture)")
		}
		for i, o := range m.options {
			if o.dxMask == 0 {
				return nil, c.errf(fmt.Sprintf("eligibility.options[%d].diagnoses", i), "an episode measure needs the diagnoses that start an episode")
			}
		}
	} else if m.unit == UnitEpisode {
		return nil, c.errf("episode", "required when unit is episode")
	}
	if s.Enrollment != nil {
		if s.Enrollment.DaysBefore < 0 || s.Enrollment.DaysAfter < 0 || s.Enrollment.MaxGaps < 0 || s.Enrollment.MaxGapDays < 0 {
			return nil, c.errf("enrollment", "days and gaps cannot be negative")
		}
		m.enrollment = s.Enrollment
	}
	switch {
	case s.FollowUp != nil:
		if err := c.followUp(s, intake); err != nil {
			return nil, err
		}
	case m.Scoring == Continuous:
		if err := c.continuous(s, intake); err != nil {
			return nil, err
		}
	}
	if s.QualityWindow != nil {
		if m.qualityWindow, err = parseWindow(s.QualityWindow, m.period, intake); err != nil {
			return nil, c.errf("qualityWindow", "%v", err)
		}
		m.hasQualityWindow = true
	} else if len(m.quality) > 0 {
		return nil, c.errf("qualityWindow", "required when the measure has quality-data codes")
	}
	if m.obs == nil && m.follow == nil {
		if m.numWindow, err = parseWindow(s.Numerator.Window, m.period, intake); err != nil {
			return nil, c.errf("numerator.window", "%v", err)
		}
	}
	if f := "numerator.window"; !m.numWindow.to.fromIndex && m.numWindow.to.fixed > m.period.End.AddDays(366) {
		if m.obs != nil {
			f = "observation.window"
		}
		if m.follow != nil {
			f = "followUp.window"
		}
		return nil, c.errf(f, "ends more than a year after the period")
	}
	for _, g := range []struct {
		field string
		in    []ruleYAML
		out   *[]rule
		win   bool // rules inherit the numerator window
	}{
		{"numerator.rules", s.Numerator.Rules, &m.numerator, true},
		{"episodeFilters", s.EpisodeFilters, &m.filters, false},
		{"episodeRequires", s.EpisodeRequires, &m.requires, false},
		{"exclusions", s.Exclusions, &m.exclusions, false},
		{"exceptions", s.Exceptions, &m.exceptions, false},
	} {
		for i, ry := range g.in {
			field := fmt.Sprintf("%s[%d]", g.field, i)
			r, err := c.rule(field, ry, intake, g.win)
			if err != nil {
				return nil, err
			}
			*g.out = append(*g.out, r)
		}
	}
	if len(m.filters) > 0 && m.episode == nil {
		return nil, c.errf("episodeFilters", "only an episode-based measure can filter episodes")
	}
	if len(m.requires) > 0 && m.episode == nil {
		return nil, c.errf("episodeRequires", "only an episode-based measure can require of its episodes")
	}
	if s.Bands != nil {
		if m.Bands, err = c.bands(s.Bands); err != nil {
			return nil, err
		}
	}
	for name := range s.ValueSets {
		if !c.used[name] {
			return nil, c.errf("valueSets."+name, "not used by any rule")
		}
	}
	return m, nil
}

func (c *compiler) period(field string, p *periodYAML) (clinical.Period, error) {
	if p == nil {
		return clinical.Period{}, c.errf(field, "required")
	}
	start, err := clinical.ParseDate(p.Start)
	if err != nil {
		return clinical.Period{}, c.errf(field+".start", "%v", err)
	}
	end, err := clinical.ParseDate(p.End)
	if err != nil {
		return clinical.Period{}, c.errf(field+".end", "%v", err)
	}
	if end < start {
		return clinical.Period{}, c.errf(field, "ends before it starts")
	}
	return clinical.Period{Start: start, End: end}, nil
}

func (c *compiler) eligibility(s *specYAML) error {
	m := c.m
	e := s.Eligibility
	field := "eligibility"
	switch {
	case s.EligibilityFile != "" && e != nil:
		return c.errf("eligibility", "give eligibility or eligibilityFile, not both")
	case s.EligibilityFile != "":
		file := path.Join(c.dir, s.EligibilityFile)
		e = &eligibilityYAML{}
		if err := decodeStrict(c.fsys, file, e); err != nil {
			return err
		}
		// Errors in the generated file name that file; its list paths are
		// relative to the same folder.
		prev := c.file
		c.file = file
		defer func() { c.file = prev }()
		field = ""
	case e == nil:
		return c.errf("eligibility", "required (inline, or eligibilityFile)")
	}
	f := func(sub string) string {
		if field == "" {
			return sub
		}
		return field + "." + sub
	}
	switch clinical.Sex(e.Sex) {
	case "", clinical.Female, clinical.Male:
		m.sex = clinical.Sex(e.Sex)
	default:
		return c.errf(f("sex"), "%q: want F, M or nothing", e.Sex)
	}
	if e.Source != "" {
		m.Sources = append(m.Sources, e.Source)
	}
	if e.Provisional != "" {
		m.Provisional = append(m.Provisional, e.Provisional)
	}
	m.minAge, m.maxAge = intOr(e.MinAge, -1), intOr(e.MaxAge, -1)
	if m.maxAge >= 0 && m.minAge > m.maxAge {
		return c.errf(f("maxAge"), "below minAge")
	}
	if len(e.Options) == 0 {
		return c.errf(f("options"), "at least one eligibility option is required")
	}
	for i, o := range e.Options {
		of := f(fmt.Sprintf("options[%d]", i))
		op := option{group: o.Group, posExcl: o.POSExclusions, valid: openPeriod}
		var err error
		if op.valid, err = c.validity(of, o); err != nil {
			return err
		}
		if o.Diagnoses != "" {
			if op.dxMask, err = c.listMask(of+".diagnoses", o.Diagnoses); err != nil {
				return err
			}
			m.fractureMask |= op.dxMask
			if op.valid != openPeriod {
				m.datedDx |= op.dxMask
			}
		}
		if o.Procedures != "" {
			if op.procMask, err = c.listMask(of+".procedures", o.Procedures); err != nil {
				return err
			}
			m.optionProcs |= op.procMask
		}
		for _, cl := range o.Classes {
			switch ec := clinical.EncounterClass(cl); ec {
			case clinical.Ambulatory, clinical.Emergency, clinical.Inpatient, clinical.Observation, clinical.Virtual:
				op.classes = append(op.classes, ec)
			default:
				return c.errf(of+".classes", "%q is not an encounter class", cl)
			}
		}
		if op.procMask == 0 && len(op.classes) == 0 {
			return c.errf(of, "needs procedures or classes: what makes an encounter qualify")
		}
		for _, p := range o.POSExclusions {
			if !clinical.ValidPOS(p) {
				return c.errf(of+".posExclusions", "%q is not a two-digit place of service", p)
			}
		}
		m.options = append(m.options, op)
	}
	if e.DiagnosisExclusions != "" {
		// The list must be used by a rule (the spec decides its window);
		// record the path so compile can check it.
		want := path.Join(c.dir, e.DiagnosisExclusions)
		found := false
		for _, rel := range s.ValueSets {
			found = found || path.Join(c.dir, rel) == want
		}
		if !found {
			return c.errf(f("diagnosisExclusions"), "%s is not used by any rule of spec.yaml", e.DiagnosisExclusions)
		}
	}
	for i, q := range e.QualityCodes {
		qf := f(fmt.Sprintf("qualityCodes[%d]", i))
		cat, ok := categoryNames[q.Category]
		if !ok {
			return c.errf(qf+".category", "%q: want performanceMet, performanceNotMet, eligiblePopulationExclusion or eligiblePopulationException", q.Category)
		}
		code, sys, err := qualitySystem(q.Code)
		if err != nil {
			return c.errf(qf+".code", "%v", err)
		}
		b, err := c.nextBit("qdc:" + code)
		if err != nil {
			return c.errf(qf, "%v", err)
		}
		c.m.codes.add(clinical.Code{System: sys, Code: code}, b)
		qc := qualityCode{cat: cat, code: code, mask: 1 << b, pos: q.PlacesOfService,
			minAge: intOr(q.MinAge, -1), maxAge: intOr(q.MaxAge, -1)}
		for _, l := range []struct {
			in  []string
			out *[]string
		}{{q.Modifiers, &qc.mods}, {q.ModifierExclusions, &qc.modEx}} {
			for _, md := range l.in {
				n, err := clinical.NormalizeModifier(md)
				if err != nil {
					return c.errf(qf+".modifiers", "%v", err)
				}
				*l.out = append(*l.out, n)
			}
		}
		m.quality = append(m.quality, qc)
		m.qualityMask |= qc.mask
	}
	return nil
}

// validity reads an option's validFrom/validTo (either may be open).
func (c *compiler) validity(field string, o optionYAML) (clinical.Period, error) {
	p := openPeriod
	for _, b := range []struct {
		name, in string
		out      *clinical.Date
	}{{"validFrom", o.ValidFrom, &p.Start}, {"validTo", o.ValidTo, &p.End}} {
		if b.in == "" {
			continue
		}
		d, err := clinical.ParseDate(b.in)
		if err != nil {
			return p, c.errf(field+"."+b.name, "%v", err)
		}
		*b.out = d
	}
	if p.End < p.Start {
		return p, c.errf(field+".validTo", "before validFrom")
	}
	return p, nil
}

// qualitySystem tells CPT Category II codes (4 digits + F) from HCPCS
// G-codes: CMS lists both as bare codes.
func qualitySystem(code string) (string, clinical.System, error) {
	if n, err := clinical.NormalizeCode(clinical.CPT, code); err == nil {
		return n, clinical.CPT, nil
	}
	if n, err := clinical.NormalizeCode(clinical.HCPCS, code); err == nil {
		return n, clinical.HCPCS, nil
	}
	return "", "", fmt.Errorf("%q is neither a CPT nor a HCPCS code", code)
}

func (c *compiler) rule(field string, ry ruleYAML, intake *clinical.Period, inheritWindow bool) (rule, error) {
	r := rule{name: ry.Name, label: ry.Label, activeSupply: ry.ActiveSupply, minDays: ry.MinDays, daysTotal: ry.DaysTotal,
		minAge: intOr(ry.MinAge, -1), maxAge: intOr(ry.MaxAge, -1), excludePOS: ry.ExcludePOS, minDates: ry.MinDates}
	if ry.Name == "" {
		return r, c.errf(field+".name", "required (it is the rule id in evidence)")
	}
	if prev, dup := c.names[ry.Name]; dup {
		return r, c.errf(field+".name", "%q already names %s", ry.Name, prev)
	}
	c.names[ry.Name] = field
	kind, ok := ruleKinds[ry.Kind]
	if !ok {
		return r, c.errf(field+".kind", "%q: want procedure, medication, diagnosis, flag, death, age, allOf, anyOf or care", ry.Kind)
	}
	r.kind = kind
	composite := kind == kindAllOf || kind == kindAnyOf
	if composite != (len(ry.Rules) > 0) {
		return r, c.errf(field+".rules", "allOf and anyOf rules, and only they, combine rules")
	}
	switch kind {
	case kindProcedure, kindMedication, kindDiagnosis:
		vs, mask, err := c.valueSetList(field+".valueSet", ry.ValueSet, ry.Kind)
		if err != nil {
			return r, err
		}
		r.mask = mask
		if ry.Drugs != "" {
			if kind != kindMedication || !ry.ActiveSupply {
				return r, c.errf(field+".drugs", "applies to medication rules with activeSupply only: it says how long a dose recorded without its supply lasts")
			}
			if r.drugs, err = c.compileDrugs(field+".drugs", ry.Drugs, vs); err != nil {
				return r, err
			}
		}
		if r.label == "" {
			return r, c.errf(field+".label", "required for kind %s (names the evidence, e.g. \"BMD test\")", ry.Kind)
		}
	case kindAge:
		if r.minAge < 0 && r.maxAge < 0 {
			return r, c.errf(field, "an age rule needs minAge or maxAge")
		}
	case kindAllOf, kindAnyOf:
		if r.label == "" {
			return r, c.errf(field+".label", "required for kind %s (names the evidence, e.g. \"frailty\")", ry.Kind)
		}
		if ry.Window != nil {
			return r, c.errf(field+".window", "the rules of %s have their own windows", ry.Kind)
		}
		for i, sub := range ry.Rules {
			s, err := c.rule(fmt.Sprintf("%s.rules[%d]", field, i), sub, intake, inheritWindow)
			if err != nil {
				return r, err
			}
			r.sub = append(r.sub, s)
		}
	case kindCare:
		if err := c.careRule(field, ry, &r); err != nil {
			return r, err
		}
	case kindFlag:
		switch fk := clinical.FlagKind(ry.Flag); fk {
		case clinical.FlagHospice, clinical.FlagLongTermInstitution, clinical.FlagISNP:
			r.flag = fk
		default:
			return r, c.errf(field+".flag", "%q: want hospice, long_term_institution or i_snp", ry.Flag)
		}
	}
	if kind != kindCare && (len(ry.Events) > 0 || ry.OnTreatment != nil) {
		return r, c.errf(field, "events and onTreatment apply to care rules only")
	}
	if kind != kindMedication && (len(ry.MedKinds) > 0 || ry.ActiveSupply) {
		return r, c.errf(field, "medKinds and activeSupply apply to medication rules only")
	}
	if kind != kindDiagnosis && kind != kindProcedure && len(ry.ExcludePOS) > 0 {
		return r, c.errf(field+".excludePOS", "applies to diagnosis and procedure rules only")
	}
	if kind != kindFlag && ry.MinDays != 0 {
		return r, c.errf(field+".minDays", "applies to flag rules only")
	}
	if ry.DaysTotal && ry.MinDays <= 0 {
		return r, c.errf(field+".daysTotal", "needs minDays (the total to reach)")
	}
	if ry.MinDates != 0 {
		if kind != kindProcedure && kind != kindMedication && kind != kindDiagnosis && kind != kindAnyOf {
			return r, c.errf(field+".minDates", "applies to procedure, medication, diagnosis and anyOf rules only")
		}
		if ry.MinDates < 2 || ry.MinDates > maxMinDates {
			return r, c.errf(field+".minDates", "%d: want 2 to %d distinct dates", ry.MinDates, maxMinDates)
		}
	}
	if len(ry.OnEncounter) > 0 && kind != kindDiagnosis {
		return r, c.errf(field+".onEncounter", "applies to diagnosis rules only")
	}
	for _, name := range ry.OnEncounter {
		mask, err := c.valueSet(field+".onEncounter", name, "")
		if err != nil {
			return r, err
		}
		r.encMask |= mask
	}
	medKinds, err := c.medKinds(field+".medKinds", ry.MedKinds)
	if err != nil {
		return r, err
	}
	r.medKinds = medKinds
	switch {
	case composite || kind == kindAge:
		if ry.Window != nil && kind == kindAge {
			return r, c.errf(field+".window", "an age rule has no window: the age is the case's")
		}
	case ry.Window != nil:
		w, err := parseWindow(ry.Window, c.m.period, intake)
		if err != nil {
			return r, c.errf(field+".window", "%v", err)
		}
		r.win, r.hasWin = w, true
	case inheritWindow:
		r.win, r.hasWin = c.m.numWindow, true
	default:
		return r, c.errf(field+".window", "required")
	}
	return r, nil
}

// medKinds reads the kinds of medication record a rule or observation counts.
// endsOf reads which events end a period or a follow-up early, each named
// at most once and all among allowed.
func (c *compiler) endsOf(field string, in []string, allowed ...string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, e := range in {
		if !slices.Contains(allowed, e) || out[e] {
			return nil, c.errf(field, "%q: want %s, each once", e, strings.Join(allowed, ", "))
		}
		out[e] = true
	}
	return out, nil
}

func (c *compiler) medKinds(field string, in []string) ([]clinical.MedicationKind, error) {
	var out []clinical.MedicationKind
	for _, k := range in {
		switch mk := clinical.MedicationKind(k); mk {
		case clinical.MedOrder, clinical.MedDispense, clinical.MedAdministration, clinical.MedStatement:
			out = append(out, mk)
		default:
			return nil, c.errf(field, "%q: want order, dispense, administration or statement", k)
		}
	}
	return out, nil
}

// valueSet marks the list a rule names as used and returns its role bit.
func (c *compiler) valueSet(field, name, kind string) (uint64, error) {
	_, mask, err := c.valueSetList(field, name, kind)
	return mask, err
}

// valueSetList is valueSet that also returns the list as read.
func (c *compiler) valueSetList(field, name, kind string) (*valueSet, uint64, error) {
	if name == "" {
		return nil, 0, c.errf(field, "required for kind %s", kind)
	}
	rel, ok := c.sets[name]
	if !ok {
		return nil, 0, c.errf(field, "%q is not declared under valueSets", name)
	}
	c.used[name] = true
	return c.list("valueSets."+name, rel)
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}
