package measure

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"

	"go.yaml.in/yaml/v3"
)

// SpecError says which spec file, field (and line, for code lists) is wrong and why.
type SpecError struct {
	File   string
	Line   int
	Field  string
	Reason string
}

func (e *SpecError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Reason)
	}
	return fmt.Sprintf("%s: %s", loc, e.Reason)
}

// specYAML is spec.yaml as written. See measures/README.md for the format.
type specYAML struct {
	ID              string            `yaml:"id"`
	Version         string            `yaml:"version"`
	Title           string            `yaml:"title"`
	Provisional     string            `yaml:"provisional"` // why the logic is not final
	Program         string            `yaml:"program"`
	Scoring         string            `yaml:"scoring"` // proportion (default), ratio, continuous, cohort
	Unit            string            `yaml:"unit"`
	EligibilityFile string            `yaml:"eligibilityFile"`
	Eligibility     *eligibilityYAML  `yaml:"eligibility"`
	AgeOn           string            `yaml:"ageOn"`
	Period          *periodYAML       `yaml:"period"`
	Intake          *periodYAML       `yaml:"intake"`
	Episode         *episodeYAML      `yaml:"episode"`
	Enrollment      *enrollmentYAML   `yaml:"enrollment"`
	QualityWindow   []string          `yaml:"qualityWindow"`
	ValueSets       map[string]string `yaml:"valueSets"`
	Numerator       numeratorYAML     `yaml:"numerator"`
	EpisodeFilters  []ruleYAML        `yaml:"episodeFilters"`
	EpisodeRequires []ruleYAML        `yaml:"episodeRequires"` // an episode is a case only when each holds
	Bands           *bandsYAML        `yaml:"bands"`           // RAG thresholds of the rate (FLS-DB, IOF)
	Exclusions      []ruleYAML        `yaml:"exclusions"`
	Exceptions      []ruleYAML        `yaml:"exceptions"`
	Observation     *observationYAML  `yaml:"observation"` // continuous measures: the value observed per case
	FollowUp        *followYAML       `yaml:"followUp"`    // time-to-event measures: the event each case is followed to
	Strata          *strataYAML       `yaml:"strata"`      // strata of the measure's own, beside the supplemental data
	Sites           string            `yaml:"sites"`       // file: the skeletal site of each fracture code
}

// observationYAML is a continuous measure's observation. See
// measures/README.md, "Observations".
type observationYAML struct {
	Kind     string   `yaml:"kind"`     // pdc
	Label    string   `yaml:"label"`    // names the fills in evidence
	ValueSet string   `yaml:"valueSet"` // the medications whose fills count
	MedKinds []string `yaml:"medKinds"` // which records are fills
	Window   []string `yaml:"window"`   // fills considered; the PDC period runs from the first to its end
	Drugs    string   `yaml:"drugs"`    // file: each drug's names and the days' supply of a dose recorded without one
	// Threshold: a case whose PDC is at least this is in the numerator.
	Threshold *float64 `yaml:"threshold"`
	// MinDaysAfterFirstFill: the period's end must be at least this many
	// days after the first fill (PQA: 91), else the case is excluded.
	MinDaysAfterFirstFill int `yaml:"minDaysAfterFirstFill"`
	// PeriodEnds: events that end the period early (death, disenrollment).
	PeriodEnds []string `yaml:"periodEnds"`
}

// drugsYAML is an observation's drugs file: which drug a fill is (PQA
// shifts overlapping fills of the same drug) and, by its form, how many
// days a dose lasts when its record says none.
type drugsYAML struct {
	Drugs []struct {
		Drug       string   `yaml:"drug"`
		Names      []string `yaml:"names"`
		DaysSupply []struct {
			Words []string `yaml:"words"` // any of these in the product's name; none: every form
			Days  int      `yaml:"days"`
		} `yaml:"daysSupply"`
	} `yaml:"drugs"`
}

type periodYAML struct {
	Start string `yaml:"start"`
	End   string `yaml:"end"`
}

type episodeYAML struct {
	Index         string `yaml:"index"` // fracture | encounter
	Label         string `yaml:"label"`
	NewAfterDays  int    `yaml:"newAfterDays"`
	InpatientDate string `yaml:"inpatientDate"` // "" | discharge
	// HEDIS's stay rules: stays at most a day apart are one (dated by the
	// last discharge), a visit that results in a stay is the stay, and
	// fractures billed at these places of service (lab claims, POS 81)
	// neither start an episode nor count in its negative history.
	DirectTransfers bool `yaml:"directTransfers"`
	// NegativeHistory: an episode whose index visit (or stay admission) has
	// a fracture on an encounter in the newAfterDays before it is dropped,
	// not moved to a later visit (HEDIS step 2).
	NegativeHistory       bool     `yaml:"negativeHistory"`
	VisitsResultingInStay bool     `yaml:"visitsResultingInStay"`
	HistoryExcludePOS     []string `yaml:"historyExcludePOS"`
}

type enrollmentYAML struct {
	DaysBefore int `yaml:"daysBefore"`
	DaysAfter  int `yaml:"daysAfter"`
	MaxGaps    int `yaml:"maxGaps"`
	MaxGapDays int `yaml:"maxGapDays"`
}

type numeratorYAML struct {
	Window []string   `yaml:"window"`
	Rules  []ruleYAML `yaml:"rules"`
}

type ruleYAML struct {
	Name         string     `yaml:"name"`
	Kind         string     `yaml:"kind"` // procedure | medication | diagnosis | flag | death | age | allOf | anyOf | care
	ValueSet     string     `yaml:"valueSet"`
	Label        string     `yaml:"label"`
	MedKinds     []string   `yaml:"medKinds"`
	Flag         string     `yaml:"flag"`
	Window       []string   `yaml:"window"`
	ActiveSupply bool       `yaml:"activeSupply"`
	Drugs        string     `yaml:"drugs"` // activeSupply: a drugs file (as an observation's) for doses recorded with 0 or 1 day
	MinDays      int        `yaml:"minDays"`
	ExcludePOS   []string   `yaml:"excludePOS"` // codes billed at these places of service do not count
	DaysTotal    bool       `yaml:"daysTotal"`  // minDays counts all spans' days together, not one span's
	MinAge       *int       `yaml:"minAge"`
	MaxAge       *int       `yaml:"maxAge"`
	MinDates     int        `yaml:"minDates"`    // matches on at least this many distinct dates
	OnEncounter  []string   `yaml:"onEncounter"` // diagnosis rules: value sets of the encounter's own codes
	Rules        []ruleYAML `yaml:"rules"`       // allOf, anyOf: the rules combined
	Events       []string   `yaml:"events"`      // care rules: the care-event kinds that count
	OnTreatment  *bool      `yaml:"onTreatment"` // care rules on monitoring contacts: the answer required
}

// eligibilityYAML is cms.yaml (generated for MIPS) or the inline
// eligibility of a hand-written spec.
type eligibilityYAML struct {
	MeasureID           string            `yaml:"measureId"`
	Year                int               `yaml:"year"`
	Title               string            `yaml:"title"`
	Source              string            `yaml:"source"`      // where the lists came from
	Provisional         string            `yaml:"provisional"` // why they are not final
	Sex                 string            `yaml:"sex"`
	MinAge              *int              `yaml:"minAge"`
	MaxAge              *int              `yaml:"maxAge"`
	Options             []optionYAML      `yaml:"options"`
	DiagnosisExclusions string            `yaml:"diagnosisExclusions"`
	QualityCodes        []qualityCodeYAML `yaml:"qualityCodes"`
}

type optionYAML struct {
	Group         string   `yaml:"group"`
	Diagnoses     string   `yaml:"diagnoses"`
	Procedures    string   `yaml:"procedures"`
	Classes       []string `yaml:"classes"`
	POSExclusions []string `yaml:"posExclusions"`
	// Dates of service the option holds for, inclusive; empty: open. PQRS
	// 2015 listed ICD-9-CM codes up to 2015-09-30 and ICD-10-CM from 2015-10-01.
	ValidFrom string `yaml:"validFrom"`
	ValidTo   string `yaml:"validTo"`
}

type qualityCodeYAML struct {
	Category           string   `yaml:"category"`
	Code               string   `yaml:"code"`
	Modifiers          []string `yaml:"modifiers"`
	ModifierExclusions []string `yaml:"modifierExclusions"`
	PlacesOfService    []string `yaml:"placesOfService"`
	MinAge             *int     `yaml:"minAge"`
	MaxAge             *int     `yaml:"maxAge"`
}

// decodeStrict decodes YAML rejecting unknown fields, so a misspelt key is an
// error rather than a silently ignored rule.
func decodeStrict(fsys fs.FS, file string, v any) error {
	raw, err := fs.ReadFile(fsys, file)
	if err != nil {
		return &SpecError{File: file, Reason: err.Error()}
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			return &SpecError{File: file, Reason: te.Errors[0]}
		}
		return &SpecError{File: file, Reason: err.Error()}
	}
	return nil
}

// Load reads, validates and compiles the spec in dir (e.g.
// "mips-418/2024") of fsys. Every problem names the file and field.
func Load(fsys fs.FS, dir string) (*Measure, error) {
	file := path.Join(dir, "spec.yaml")
	var s specYAML
	if err := decodeStrict(fsys, file, &s); err != nil {
		return nil, err
	}
	rec := &recordingFS{FS: fsys, read: map[string]bool{}}
	c := compiler{fsys: rec, dir: dir, file: file}
	m, err := c.compile(&s)
	if err != nil {
		return nil, err
	}
	m.src, m.dir = fsys, dir
	for f := range rec.read {
		if path.Dir(f) != dir {
			m.borrowed = append(m.borrowed, f)
		}
	}
	return m, nil
}

// recordingFS notes every file compiling a spec opens, so that SpecHash
// covers exactly what the version was built from.
type recordingFS struct {
	fs.FS
	read map[string]bool
}

func (r *recordingFS) Open(name string) (fs.File, error) {
	f, err := r.FS.Open(name)
	if err == nil {
		if st, serr := f.Stat(); serr == nil && !st.IsDir() {
			r.read[name] = true
		}
	}
	return f, err
}
