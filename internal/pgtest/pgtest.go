// Package pgtest gives tests throwaway PostgreSQL databases, each cloned from
// a template database that is prepared once per test binary:
//
//	func TestMain(m *testing.M) {
//		pgtest.SetTemplate(applyMigrations) // optional
//		os.Exit(pgtest.Main(m))
//	}
//
//	func TestX(t *testing.T) {
//		url := pgtest.NewDB(t)
//		...
//	}
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/liaison-registry/liaison/internal/pgembed"
)

// EnvURL names the environment variable that, if set, holds the postgres://
// URL of an external server to use instead of starting a private cluster.
// Its user must be allowed to create databases.
const EnvURL = "LIAISON_TEST_DATABASE_URL"

var (
	prepare  func(ctx context.Context, url string) error
	cluster  *pgembed.Cluster
	adminURL string                   // where CREATE/DROP DATABASE run
	dbURL    func(name string) string // URL of a database on the server in use
	template string                   // template database name; "" until Main set it up
	seq      atomic.Int64
)

// SetTemplate sets the function that prepares the template database once
// (e.g. applies migrations). Call it before Main. fn must close its
// connections before returning: PostgreSQL cannot clone a database that has
// open sessions.
func SetTemplate(fn func(ctx context.Context, url string) error) { prepare = fn }

// Main starts one throwaway cluster (or uses EnvURL) for the whole test
// binary, prepares the template, runs the tests and cleans up. Call it from
// TestMain: os.Exit(pgtest.Main(m)). If PostgreSQL is unavailable it fails
// rather than skipping, so missing database coverage cannot go unnoticed.
func Main(m *testing.M) int {
	ctx := context.Background()
	err := setup(ctx)
	defer teardown(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		return 1
	}
	return m.Run()
}

func setup(ctx context.Context) error {
	if ext := os.Getenv(EnvURL); ext != "" {
		u, err := url.Parse(ext)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			return fmt.Errorf("%s must be a postgres:// URL, got %q", EnvURL, ext)
		}
		adminURL = ext
		dbURL = func(name string) string {
			v := *u
			v.Path, v.RawPath = "/"+name, ""
			return v.String()
		}
	} else {
		c, err := pgembed.Start(ctx, pgembed.Options{Settings: map[string]string{
			// Durability is pointless for throwaway data; speed matters.
			"fsync":              "off",
			"synchronous_commit": "off",
			"full_page_writes":   "off",
		}})
		if err != nil {
			return err
		}
		cluster, adminURL, dbURL = c, c.URL("postgres"), c.URL
	}

	name := newName("tmpl")
	if err := admin(ctx, "CREATE DATABASE "+ident(name)); err != nil {
		return err
	}
	template = name // from here on teardown drops it
	if prepare != nil {
		if err := prepare(ctx, dbURL(name)); err != nil {
			return fmt.Errorf("preparing template database: %w", err)
		}
	}
	return nil
}

func teardown(ctx context.Context) {
	if template != "" {
		if err := dropDB(ctx, template); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
}

// NewDB returns the URL of a fresh database cloned from the template; it is
// dropped when the test ends.
func NewDB(t testing.TB) string {
	t.Helper()
	if template == "" {
		t.Fatal("pgtest: NewDB needs TestMain to call pgtest.Main")
	}
	name := newName("test")
	if err := admin(t.Context(), "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(template)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// t.Context is already canceled during cleanup.
		if err := dropDB(context.Background(), name); err != nil {
			t.Error(err)
		}
	})
	return dbURL(name)
}

// Cluster returns the running cluster, or nil if EnvURL is in use.
func Cluster() *pgembed.Cluster { return cluster }

// newName is unique across concurrent test binaries sharing a server.
func newName(kind string) string {
	return fmt.Sprintf("pgtest_%s_%d_%d", kind, os.Getpid(), seq.Add(1))
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// dropDB drops a database even if a test left connections open.
func dropDB(ctx context.Context, name string) error {
	return admin(ctx, "DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)")
}

// admin runs a statement on its own short-lived connection, which keeps
// concurrent tests from contending for one.
func admin(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}
