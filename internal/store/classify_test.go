package store

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestClassifyConnectionLoss: losing the server under a statement (a
// restart, a crash) is the database being unavailable, not an internal
// error; the errors are the ones internal/chaos meets when PostgreSQL is
// restarted under load.
func TestClassifyConnectionLoss(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "unix", Err: syscall.ECONNRESET}
	for _, tc := range []struct {
		name        string
		err         error
		unavailable bool
	}{
		{"connection reset under a statement", fmt.Errorf("copy: %w", reset), true},
		{"server gone mid-reply", io.ErrUnexpectedEOF, true},
		{"administrator or immediate shutdown", &pgconn.PgError{Code: "57P01"}, true},
		{"another backend crashed", &pgconn.PgError{Code: "57P02"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"a unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"a bug", errors.New("boom"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := errors.Is(classify(tc.err), ErrUnavailable); got != tc.unavailable {
				t.Errorf("classify(%v) unavailable = %v, want %v", tc.err, got, tc.unavailable)
			}
		})
	}
}
