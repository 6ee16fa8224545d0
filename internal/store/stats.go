package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PoolStats is one connection pool's use at a moment (pgxpool.Stat, in
// plain values).
type PoolStats struct {
	Name                               string // "main" or "audit"
	Max, Total, Acquired, Idle         int32
	Acquires, EmptyAcquires, Cancelled int64
	AcquireWait                        time.Duration
}

// PoolStats reports the main pool and the audit log's pool.
func (s *Store) PoolStats() []PoolStats {
	return []PoolStats{poolStats("main", s.pool), poolStats("audit", s.audit)}
}

func poolStats(name string, p *pgxpool.Pool) PoolStats {
	st := p.Stat()
	return PoolStats{Name: name, Max: st.MaxConns(), Total: st.TotalConns(), Acquired: st.AcquiredConns(), Idle: st.IdleConns(),
		Acquires: st.AcquireCount(), EmptyAcquires: st.EmptyAcquireCount(), Cancelled: st.CanceledAcquireCount(), AcquireWait: st.AcquireDuration()}
}

// RunCount is a number of runs in one status, over one practice.
type RunCount struct {
	Status   string
	Practice string // a TIN, "all" for runs over every practice, "" when not by practice
	N        int
}

// RunsByStatus counts every run by status.
func (s *Store) RunsByStatus(ctx context.Context) ([]RunCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, '', count(*)::int FROM evaluation_runs GROUP BY status ORDER BY status`)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[RunCount])
	return out, classify(err)
}

// PendingRunsByPractice counts queued and running runs per practice: a run
// over several practices counts under each, one over every practice under
// "all".
func (s *Store) PendingRunsByPractice(ctx context.Context) ([]RunCount, error) {
	rows, err := s.pool.Query(ctx, `SELECT r.status, coalesce(t.tin, 'all'), count(*)::int
		FROM evaluation_runs r LEFT JOIN LATERAL unnest(r.tins) AS t(tin) ON true
		WHERE r.status IN ('queued', 'running') GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return nil, classify(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[RunCount])
	return out, classify(err)
}
