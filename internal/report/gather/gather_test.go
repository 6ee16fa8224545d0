package gather

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
)

// slowSource answers for runs "a", "b", "c" (one case each, whose id is
// the run's), and holds each case read until every run's read has
// started, or a second has passed: Runs reads the runs together.
type slowSource struct {
	mu       sync.Mutex
	started  int
	together chan struct{}
}

func (s *slowSource) GetRun(_ context.Context, id string) (evaluation.Run, error) {
	if id == "missing" {
		return evaluation.Run{}, evaluation.ErrNotFound
	}
	run := evaluation.Run{ID: id, MeasureKey: "mips-418@2026", Status: evaluation.Succeeded}
	run.Scoring = measure.Proportion
	return run, nil
}

func (s *slowSource) ListAggregates(context.Context, string, string, string) ([]evaluation.Aggregate, error) {
	return nil, nil
}

func (s *slowSource) ListCases(_ context.Context, f evaluation.CaseFilter) ([]measure.Case, error) {
	s.mu.Lock()
	s.started++
	if s.started == 3 {
		close(s.together)
	}
	s.mu.Unlock()
	select {
	case <-s.together:
	case <-time.After(time.Second):
	}
	return []measure.Case{{CaseID: f.RunID, TIN: f.TIN}}, nil
}

func TestRunsReadsTogetherInOrder(t *testing.T) {
	src := &slowSource{together: make(chan struct{})}
	start := time.Now()
	got, err := Runs(context.Background(), src, registry, []string{"c", "a", "b"}, "123456789", "")
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= time.Second {
		t.Errorf("the three runs were read one after another (%v): each waited for the others", took)
	}
	var ids []string
	for _, rd := range got {
		ids = append(ids, rd.Run.ID+"/"+rd.Cases[0].CaseID)
	}
	if want := "[c/c a/a b/b]"; fmt.Sprint(ids) != want {
		t.Errorf("runs gathered %v, want %s (the order asked)", ids, want)
	}
}

func TestRunsFailsWithTheFirstError(t *testing.T) {
	src := &slowSource{together: make(chan struct{})}
	close(src.together)
	_, err := Runs(context.Background(), src, registry, []string{"a", "missing", "b"}, "123456789", "")
	if !errors.Is(err, evaluation.ErrNotFound) {
		t.Errorf("Runs with a missing run: %v, want ErrNotFound", err)
	}
}
