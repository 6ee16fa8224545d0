// Package store is Liaison's PostgreSQL adapter. Nothing outside it sees pgx
// types: callers get domain values and the errors defined here.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/liaison-registry/liaison/migrations"
)

// ErrNotFound is returned when a requested row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict means the transaction lost a race with another one
// (serialization failure or deadlock); the whole request can be retried.
var ErrConflict = errors.New("conflict with a concurrent request")

// ErrUnavailable wraps failures to reach the database, so the API can
// answer UNAVAILABLE rather than INTERNAL.
var ErrUnavailable = errors.New("database unavailable")

// minPoolConns sizes the pool unless the URL sets pool_max_conns.
const minPoolConns = 32

// Store is a connection pool with Liaison's queries.
type Store struct {
	pool *pgxpool.Pool
	// audit is a pool of its own for the audit log: a call's event is
	// written before its answer leaves, and must never queue behind
	// ingests and evaluation runs holding the main pool.
	audit *pgxpool.Pool
	log   *slog.Logger
	jobs  *jobs
}

// Open connects to url and applies pending migrations.
func Open(ctx context.Context, url string, log *slog.Logger) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgxpool's default (4 on this machine) deadlocks a run: it holds a
		// lock, a snapshot, its readers and its results transaction at once,
		// beside River's own connections and the API's.
		cfg.MaxConns = minPoolConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	if log == nil {
		log = slog.Default()
	}
	acfg := cfg.Copy()
	acfg.MaxConns = auditPoolConns
	audit, err := pgxpool.NewWithConfig(ctx, acfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	s := &Store{pool: pool, audit: audit, log: log}
	if err := s.migrate(ctx, migrations.FS); err != nil {
		s.Close()
		return nil, err
	}
	if err := migrateRiver(ctx, pool); err != nil {
		s.Close()
		return nil, fmt.Errorf("job queue migrations: %w", err)
	}
	if s.jobs, err = newInsertOnlyJobs(pool, log); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the pools.
func (s *Store) Close() {
	s.pool.Close()
	s.audit.Close()
}

// auditPoolConns sizes the audit log's own pool.
const auditPoolConns = 4

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// Migrate applies the embedded migrations to url once; tests use it to
// prepare a template database.
func Migrate(ctx context.Context, url string) error {
	s, err := Open(ctx, url, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	s.Close()
	return nil
}

// migrate applies *.sql files in name order, each in its own transaction,
// under an advisory lock so concurrent servers starting together agree.
func (s *Store) migrate(ctx context.Context, fsys fs.FS) error {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer conn.Release()
	const lockKey = 7_241_418 // arbitrary, fixed: Liaison's migration lock
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKey) //nolint:errcheck
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	for _, name := range names {
		var done bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, name).Scan(&done); err != nil {
			return err
		}
		if done {
			continue
		}
		sql, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name)
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
		s.log.Info("applied migration", "name", name)
	}
	return nil
}

// Tx is a transaction with Liaison's statements.
type Tx struct {
	tx     pgx.Tx
	staged map[string]bool // staging tables created in this transaction
}

// InTx runs fn in a transaction, committing when it returns nil. It retries
// on serialization failures and deadlocks only: those are the errors where a
// retry can succeed without the caller changing anything.
func (s *Store) InTx(ctx context.Context, fn func(*Tx) error) error {
	return s.inTx(ctx, 3, fn)
}

// InTxOnce runs fn in one transaction without retrying, for work that cannot
// be repeated (it consumes a stream); a lost race is reported as ErrConflict.
func (s *Store) InTxOnce(ctx context.Context, fn func(*Tx) error) error {
	return s.inTx(ctx, 1, fn)
}

func (s *Store) inTx(ctx context.Context, attempts int, fn func(*Tx) error) error {
	var err error
	for i := 0; i < attempts; i++ {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			return fn(&Tx{tx: tx, staged: map[string]bool{}})
		})
		if !retryable(err) {
			break
		}
		if i+1 < attempts {
			s.log.Warn("retrying transaction", "attempt", i+1, "err", err)
		}
	}
	if retryable(err) {
		return fmt.Errorf("%w: %v", ErrConflict, err)
	}
	return classify(err)
}

func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// classify turns connection failures into ErrUnavailable and leaves the rest.
func classify(err error) error {
	if err == nil || errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		if strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03" {
			return fmt.Errorf("%w: %s", ErrUnavailable, pgErr.Message)
		}
		return fmt.Errorf("database: %s (SQLSTATE %s)", pgErr.Message, pgErr.Code)
	}
	if pgconn.SafeToRetry(err) || pgconn.Timeout(err) || lostConnection(err) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	var connErr *pgconn.ConnectError
	if errors.As(err, &connErr) {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return err
}

// lostConnection reports a connection that broke under a statement: the
// server went away (restarted, crashed, network cut) after it was sent, so
// pgx does not call it safe to retry (a COMMIT in flight may have taken
// effect). To the caller it is the database being unavailable, not a bug.
func lostConnection(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF)
}
