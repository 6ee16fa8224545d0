package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/liaison-registry/liaison/internal/access"
)

// APIKey is a stored API key: its holder and its hash, never its secret.
type APIKey struct {
	access.Principal
	Label                                     string
	Salt, Hash                                []byte
	CreatedAt, ExpiresAt, RevokedAt, LastUsed time.Time
}

// Active says whether the key works at t.
func (k APIKey) Active(t time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || t.Before(k.ExpiresAt))
}

const keyColumns = `id, role, tin, npi, label, salt, hash, created_at, expires_at, revoked_at, last_used_at`

func scanAPIKey(r pgx.CollectableRow) (APIKey, error) {
	var k APIKey
	var role string
	var expires, revoked, used *time.Time
	err := r.Scan(&k.KeyID, &role, &k.TIN, &k.NPI, &k.Label, &k.Salt, &k.Hash, &k.CreatedAt, &expires, &revoked, &used)
	k.Role, k.ExpiresAt, k.RevokedAt, k.LastUsed = access.Role(role), timeOf(expires), timeOf(revoked), timeOf(used)
	return k, err
}

// CreateKey stores a key.
func (s *Store) CreateKey(ctx context.Context, k APIKey) (APIKey, error) {
	return oneKey(ctx, s.pool, `INSERT INTO api_keys (id, role, tin, npi, label, salt, hash, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING `+keyColumns,
		k.KeyID, string(k.Role), k.TIN, k.NPI, k.Label, k.Salt, k.Hash, nullTime(k.ExpiresAt))
}

// GetKey returns one key by id.
func (s *Store) GetKey(ctx context.Context, id string) (APIKey, error) {
	return oneKey(ctx, s.pool, `SELECT `+keyColumns+` FROM api_keys WHERE id = $1`, id)
}

// oneKey runs a query returning one key row on q (the pool, or a
// transaction), ErrNotFound when none.
func oneKey(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql string, args ...any) (APIKey, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return APIKey{}, classify(err)
	}
	k, err := pgx.CollectExactlyOneRow(rows, scanAPIKey)
	if errors.Is(err, pgx.ErrNoRows) {
		return APIKey{}, ErrNotFound
	}
	return k, classify(err)
}

// ListKeys returns keys oldest first; active ones only unless all.
func (s *Store) ListKeys(ctx context.Context, all bool) ([]APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys
		WHERE $1 OR (revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()))
		ORDER BY created_at, id`, all)
	if err != nil {
		return nil, classify(err)
	}
	keys, err := pgx.CollectRows(rows, scanAPIKey)
	return keys, classify(err)
}

// ErrLastOperator refuses to revoke the last working operator key: with
// none left, nobody could create keys or practices again short of editing
// the database.
var ErrLastOperator = errors.New("the last active operator key")

// RevokeKey marks a key revoked (keeping the first revocation time), unless
// it is the last active operator key (ErrLastOperator). The active operator
// keys are locked first, so two revocations at once cannot each leave the
// other's key the last and both go through.
func (s *Store) RevokeKey(ctx context.Context, id string) (APIKey, error) {
	var k APIKey
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM api_keys WHERE role = $1 AND revoked_at IS NULL
			AND (expires_at IS NULL OR expires_at > now()) ORDER BY id FOR UPDATE`, string(access.Operator))
		if err != nil {
			return err
		}
		operators, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if len(operators) == 1 && operators[0] == id {
			return ErrLastOperator
		}
		k, err = oneKey(ctx, tx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
			WHERE id = $1 RETURNING `+keyColumns, id)
		return err
	})
	return k, classify(err)
}

// TouchKey records that a key was used.
func (s *Store) TouchKey(ctx context.Context, id string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)`, id, at)
	return classify(err)
}

// HasKeys says whether any key was ever created (the first start creates one).
func (s *Store) HasKeys(ctx context.Context) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys)`).Scan(&ok)
	return ok, classify(err)
}

// AuditEvent is one audited call. It holds no patient data.
type AuditEvent struct {
	ID       int64
	At       time.Time
	KeyID    string
	Role     access.Role
	Method   string
	TIN, NPI string
	Code     string
	Items    int64
	// Subject names what the call read or wrote ("patient:<tin>/<id>",
	// "run:<id>"); "" for calls on no one record.
	Subject string
	// RequestID is the request's id (x-request-id), also on its log lines
	// and its error answer.
	RequestID string
}

// AppendAudit stores events in one COPY. Its commit does not wait for the
// log to reach the disk (synchronous_commit off for this transaction): the
// events are committed in PostgreSQL before the call's answer leaves, so a
// liaisond that dies (kill -9) loses none, and the answer does not wait for
// a disk flush (after a restart, a checkpoint made each read as slow as a
// write). PostgreSQL writes them to disk within a few hundred
// milliseconds; only a crash of PostgreSQL itself in that moment loses them.
func (s *Store) AppendAudit(ctx context.Context, events []AuditEvent) error {
	err := pgx.BeginFunc(ctx, s.audit, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = off"); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"audit_events"},
			[]string{"at", "key_id", "role", "method", "tin", "npi", "code", "items", "subject", "request_id"},
			pgx.CopyFromSlice(len(events), func(i int) ([]any, error) {
				e := events[i]
				return []any{e.At, e.KeyID, string(e.Role), e.Method, e.TIN, e.NPI, e.Code, e.Items, e.Subject, e.RequestID}, nil
			}))
		return err
	})
	return classify(err)
}

// RecordAudit stores the event of the call this transaction belongs to, in
// the transaction: a write and its audit event commit together or not at all.
func (t *Tx) RecordAudit(ctx context.Context, e AuditEvent) error {
	_, err := t.tx.Exec(ctx, `INSERT INTO audit_events (at, key_id, role, method, tin, npi, code, items, subject, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, e.At, e.KeyID, string(e.Role), e.Method, e.TIN, e.NPI, e.Code, e.Items, e.Subject, e.RequestID)
	return classify(err)
}

// auditKey carries, in a call's context, the audit event its write
// transaction records (WithAudit, AuditIn).
type auditKey struct{}

// AuditSlot is a call's audit event and whether its write transaction has
// recorded it.
type AuditSlot struct {
	Event   AuditEvent
	Written bool
}

// WithAudit gives a call's write transaction the slot of its audit event.
func WithAudit(ctx context.Context, slot *AuditSlot) context.Context {
	return context.WithValue(ctx, auditKey{}, slot)
}

// AuditIn returns the call's audit slot, or nil.
func AuditIn(ctx context.Context) *AuditSlot {
	s, _ := ctx.Value(auditKey{}).(*AuditSlot)
	return s
}

// AuditFilter selects audit events, newest first.
type AuditFilter struct {
	KeyID, TIN, Subject string
	RequestID           string
	Before              int64 // 0: from the newest
	Limit               int
}

// ListAudit returns audit events newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, at, key_id, role, method, tin, npi, code, items, subject, request_id FROM audit_events
		WHERE ($1 = '' OR key_id = $1) AND ($2 = '' OR tin = $2) AND ($3 = 0 OR id < $3) AND ($5 = '' OR subject = $5)
		  AND ($6 = '' OR request_id = $6)
		ORDER BY id DESC LIMIT $4`, f.KeyID, f.TIN, f.Before, f.Limit, f.Subject, f.RequestID)
	if err != nil {
		return nil, classify(err)
	}
	events, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEvent, error) {
		var e AuditEvent
		var role string
		err := r.Scan(&e.ID, &e.At, &e.KeyID, &role, &e.Method, &e.TIN, &e.NPI, &e.Code, &e.Items, &e.Subject, &e.RequestID)
		e.Role = access.Role(role)
		return e, err
	})
	return events, classify(err)
}
