package console

import (
	"cmp"
	"context"
	"slices"

	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
)

// maxRunsListed bounds the runs a page considers: the newest first.
const maxRunsListed = 1000

// chosen are the runs a page shows: for each measure, the newest run that
// succeeded, of one performance year, covering the practice.
type chosen struct {
	Year  int
	Years []int // every year with such a run, newest first
	Runs  []evaluation.Run
	// Measures are the runs' measure versions, by run id.
	Measures map[string]*measure.Measure
}

// IDs are the chosen runs' ids.
func (c chosen) IDs() []string {
	ids := make([]string, len(c.Runs))
	for i, r := range c.Runs {
		ids[i] = r.ID
	}
	return ids
}

// pickRuns chooses, among the runs the caller may see that succeeded and
// cover tin, the newest of each measure whose version keep accepts, in
// year (0: the newest year there is).
func (c *Console) pickRuns(ctx context.Context, tin string, year int, keep func(*measure.Measure) bool) (chosen, error) {
	runs, err := c.listRuns(ctx)
	if err != nil {
		return chosen{}, err
	}
	return choose(c.finished(runs, tin, keep), year), nil
}

// listRuns lists the runs the caller may see, newest first: the one read
// a page makes of them.
func (c *Console) listRuns(ctx context.Context) ([]evaluation.Run, error) {
	return c.d.Runs.ListRunHeaders(ctx, "", nil, maxRunsListed)
}

// finishedRun is a run that succeeded with its measure version.
type finishedRun struct {
	evaluation.Run
	M    *measure.Measure
	Year int // its performance year
}

// finishedRuns are the runs that succeeded covering a practice, newest
// first, and the performance years they span, newest first.
type finishedRuns struct {
	Runs  []finishedRun
	Years []int
}

// finished keeps, of runs (newest first), those that succeeded, cover tin
// and evaluate a measure version keep accepts.
func (c *Console) finished(runs []evaluation.Run, tin string, keep func(*measure.Measure) bool) finishedRuns {
	var out finishedRuns
	years := map[int]bool{}
	for _, r := range runs {
		if r.Status != evaluation.Succeeded || !covers(r.TINs, tin) {
			continue
		}
		m, err := c.d.Measures.Get(r.MeasureKey)
		if err != nil || !keep(m) {
			continue // a version this build no longer ships
		}
		y := m.Period().Start.Year()
		years[y] = true
		out.Runs = append(out.Runs, finishedRun{r, m, y})
	}
	for y := range years {
		out.Years = append(out.Years, y)
	}
	slices.SortFunc(out.Years, func(a, b int) int { return cmp.Compare(b, a) })
	return out
}

// choose takes the newest run of each measure in year (0: the newest year
// there is), ordered by measure version.
func choose(f finishedRuns, year int) chosen {
	out := chosen{Year: year, Years: f.Years, Measures: map[string]*measure.Measure{}}
	if out.Year == 0 && len(out.Years) > 0 {
		out.Year = out.Years[0]
	}
	seen := map[string]bool{}
	for _, fr := range f.Runs { // newest first
		if fr.Year != out.Year || seen[fr.M.ID] {
			continue
		}
		seen[fr.M.ID] = true
		out.Runs = append(out.Runs, fr.Run)
		out.Measures[fr.ID] = fr.M
	}
	slices.SortStableFunc(out.Runs, func(a, b evaluation.Run) int { return cmp.Compare(a.MeasureKey, b.MeasureKey) })
	return out
}

// covers says whether a run's practices include tin (a run of no listed
// practice spans them all).
func covers(tins []string, tin string) bool {
	return len(tins) == 0 || tin == "" || slices.Contains(tins, tin)
}

// proportion keeps the measures workbooks and submissions carry.
func proportion(m *measure.Measure) bool { return m.Scoring == measure.Proportion || m.Scoring == "" }
