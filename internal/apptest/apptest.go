// Package apptest starts a real liaisond for tests: gRPC and REST on
// loopback over a fresh database from pgtest (the test binary's TestMain
// must run pgtest.Main), stopped when the test ends.
package apptest

import (
	"context"
	"log/slog"
	"testing"

	"github.com/jackc/pgx/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/liaison-registry/liaison/internal/app"
	"github.com/liaison-registry/liaison/internal/pgtest"
)

// Server is a running liaisond with a gRPC client connection.
type Server struct {
	DatabaseURL string
	Running     *app.Running
	Conn        *grpc.ClientConn
}

// Start starts liaisond over a fresh database.
func Start(t *testing.T) *Server {
	t.Helper()
	url := pgtest.NewDB(t)
	srv, err := app.Start(context.Background(), app.Options{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", DatabaseURL: url,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		if err := srv.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return &Server{DatabaseURL: url, Running: srv, Conn: conn}
}

// Query reads one value straight from the database, so tests check what
// was stored rather than what the server says it stored.
func (s *Server) Query(t *testing.T, dst any, sql string, args ...any) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), s.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(context.Background(), sql, args...).Scan(dst); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
