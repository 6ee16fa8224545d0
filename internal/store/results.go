package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/liaison-registry/liaison/internal/measure"
)

// resultsTx opens the transaction that holds the run's results.
func (j *RunJob) resultsTx(ctx context.Context) (pgx.Tx, error) {
	if j.results != nil {
		return j.results, nil
	}
	conn, err := j.s.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		conn.Release()
		return nil, err
	}
	j.conn, j.results = conn, tx
	return tx, nil
}

// WriteCases adds cases to the run's results (COPY, in the results transaction).
func (j *RunJob) WriteCases(ctx context.Context, cases []measure.Case) error {
	if len(cases) == 0 {
		return nil
	}
	tx, err := j.resultsTx(ctx)
	if err != nil {
		return classify(err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"evaluation_cases"},
		[]string{"tin", "run_id", "case_id", "patient_id", "npi", "index_date", "due_date", "populations", "evidence",
			"observation", "events", "person_years", "outcome", "follow_up", "strata"},
		pgx.CopyFromSlice(len(cases), func(i int) ([]any, error) {
			c := cases[i]
			ev, err := json.Marshal(nonNilEvidence(c.Evidence))
			var obs *float64
			if c.Observed {
				obs = &c.Observation
			}
			return []any{c.TIN, j.run.ID, c.CaseID, c.PatientID, c.NPI, c.IndexDate.Time(), c.DueDate.Time(), c.Populations.Names(), ev,
				obs, c.Events, c.PersonYears, c.Outcome.String(), c.FollowUp, nonNilStrata(c.Strata)}, err
		}))
	if err != nil {
		return fmt.Errorf("writing cases: %w", classify(err))
	}
	return nil
}

// Finish writes the run's aggregates and totals and marks it succeeded, in
// the transaction that holds its cases.
func (j *RunJob) Finish(ctx context.Context, total Tally, aggs []Aggregate) error {
	tx, err := j.resultsTx(ctx)
	if err != nil {
		return classify(err)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"evaluation_aggregates"},
		append([]string{"run_id", "level", "tin", "npi", "stratum", "stratum_value"}, strings.Split(tallyColumns, ", ")...),
		pgx.CopyFromSlice(len(aggs), func(i int) ([]any, error) {
			a := aggs[i]
			return append([]any{j.run.ID, a.Level, a.TIN, a.NPI, a.Stratum, a.StratumValue}, tallyArgs(a.Tally)...), nil
		}))
	if err != nil {
		return fmt.Errorf("writing aggregates: %w", classify(err))
	}
	if _, err := tx.Exec(ctx, `UPDATE evaluation_runs SET status = 'succeeded', finished_at = clock_timestamp(), error = '',
		(`+tallyColumns+`) = ($2, $3, $4, $5, $6, $7, $8, $9, $10) WHERE id = $1`, append([]any{j.run.ID}, tallyArgs(total)...)...); err != nil {
		return classify(err)
	}
	err = tx.Commit(ctx)
	j.results = nil
	return classify(err)
}

// close rolls back results that were not finished.
func (j *RunJob) close(ctx context.Context) {
	if j.results != nil {
		j.results.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
		j.results = nil
	}
	if j.conn != nil {
		j.conn.Release()
		j.conn = nil
	}
}

func nonNilEvidence(e []measure.Evidence) []measure.Evidence {
	if e == nil {
		return []measure.Evidence{}
	}
	return e
}

func nonNilStrata(s []measure.Stratum) []measure.Stratum {
	if s == nil {
		return []measure.Stratum{}
	}
	return s
}
