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
	runs, err := c.d.Runs.ListRunHeaders(ctx, "", nil, maxRunsListed)
	if err != nil {
		return chosen{}, err
	}
	type cand struct {
		run evaluation.Run
		m   *measure.Measure
	}
	var cands []cand
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
		cands = append(cands, cand{r, m})
	}
	out := chosen{Year: year, Measures: map[string]*measure.Measure{}}
	for y := range years {
		out.Years = append(out.Years, y)
	}
	slices.SortFunc(out.Years, func(a, b int) int { return cmp.Compare(b, a) })
	if out.Year == 0 && len(out.Years) > 0 {
		out.Year = out.Years[0]
	}
	seen := map[string]bool{}
	for _, cd := range cands { // newest first
		if cd.m.Period().Start.Year() != out.Year || seen[cd.m.ID] {
			continue
		}
		seen[cd.m.ID] = true
		out.Runs = append(out.Runs, cd.run)
		out.Measures[cd.run.ID] = cd.m
	}
	slices.SortStableFunc(out.Runs, func(a, b evaluation.Run) int { return cmp.Compare(a.MeasureKey, b.MeasureKey) })
	return out, nil
}

// covers says whether a run's practices include tin (a run of no listed
// practice spans them all).
func covers(tins []string, tin string) bool {
	return len(tins) == 0 || tin == "" || slices.Contains(tins, tin)
}

// proportion keeps the measures workbooks and submissions carry.
func proportion(m *measure.Measure) bool { return m.Scoring == measure.Proportion || m.Scoring == "" }
