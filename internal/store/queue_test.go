package store

import (
	"context"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/pgtest"
)

// A queued run whose job is gone (River discarded it once its attempts were
// spent, as happened when an outage failed every attempt before it started)
// is queued again when workers start, rather than staying queued for good.
func TestQueuedRunWithoutAJobIsResumed(t *testing.T) {
	s := open(t, pgtest.NewDB(t))
	ctx := context.Background()
	run, err := s.CreateRun(ctx, "mips-418@2026", nil, evaluation.Provenance{SpecHash: "spec", SoftwareVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE river_job SET state = 'discarded', finalized_at = now() WHERE args->>'run_id' = $1`, run.ID); err != nil {
		t.Fatal(err)
	}
	worked := make(chan string, 4)
	stop, err := s.StartWorkers(ctx, func(ctx context.Context, job evaluation.Job) error {
		err := job.Finish(ctx, evaluation.Tally{}, nil)
		worked <- job.Run().ID
		return err
	}, WorkerOptions{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background()) //nolint:errcheck
	select {
	case id := <-worked:
		if id != run.ID {
			t.Fatalf("worked run %s, want %s", id, run.ID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the queued run whose job was discarded was never worked")
	}
	got, err := s.GetRun(ctx, run.ID)
	if err != nil || got.Status != RunSucceeded {
		t.Errorf("run after resuming: %s, %v", got.Status, err)
	}
}
