// Package access is who may do what: API keys (their format and the slow,
// salted hash stored for them), roles, and the scope a caller acts in. It
// does no I/O; internal/api enforces it in one interceptor and internal/store
// scopes its queries by the TIN it yields.
package access

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Role is what a key may do.
type Role string

// The three roles.
const (
	// Operator may do everything, across practices.
	Operator Role = "operator"
	// Practice may read and write one TIN's data, runs, cases, submissions and reports.
	Practice Role = "practice"
	// Physician may read one NPI's results and worklist within one TIN.
	Physician Role = "physician"
)

// ParseRole reads a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(s)); r {
	case Operator, Practice, Physician:
		return r, nil
	}
	return "", fmt.Errorf("role %q: must be operator, practice or physician", s)
}

// Principal is the caller a key stands for.
type Principal struct {
	KeyID string
	Role  Role
	TIN   string // practice and physician keys
	NPI   string // physician keys
}

// Check says whether p is a well-formed key holder: practice and physician
// keys belong to a TIN, physician keys to an NPI, operator keys to neither.
func (p Principal) Check() error {
	switch p.Role {
	case Operator:
		if p.TIN != "" || p.NPI != "" {
			return errors.New("an operator key spans every practice: it takes no TIN or NPI")
		}
	case Practice:
		if p.TIN == "" || p.NPI != "" {
			return errors.New("a practice key needs a TIN and takes no NPI")
		}
	case Physician:
		if p.TIN == "" || p.NPI == "" {
			return errors.New("a physician key needs a TIN and an NPI")
		}
	default:
		return fmt.Errorf("role %q: must be operator, practice or physician", p.Role)
	}
	return nil
}

// Denied is a request outside the caller's scope or role.
type Denied struct{ Reason string }

func (d *Denied) Error() string { return d.Reason }

func deny(format string, a ...any) error { return &Denied{Reason: fmt.Sprintf(format, a...)} }

// Require refuses callers whose role is not one of roles.
func (p Principal) Require(what string, roles ...Role) error {
	if slices.Contains(roles, p.Role) {
		return nil
	}
	return deny("%s key %s may not %s", p.Role, p.KeyID, what)
}

// ScopeTIN is the TIN a request acts on: operators act on what they ask
// for ("" meaning every practice); other keys on their own TIN, and asking
// for another is refused.
func (p Principal) ScopeTIN(asked string) (string, error) {
	if p.Role == Operator || asked == p.TIN {
		return asked, nil
	}
	if asked == "" {
		return p.TIN, nil
	}
	return "", deny("%s key %s is limited to TIN %s; TIN %s is another practice's", p.Role, p.KeyID, p.TIN, asked)
}

// ScopeNPI is the NPI a request acts on: physicians act on their own NPI
// only; everyone else on what they ask for ("" meaning every clinician).
func (p Principal) ScopeNPI(asked string) (string, error) {
	if p.Role != Physician || asked == p.NPI {
		return asked, nil
	}
	if asked == "" {
		return p.NPI, nil
	}
	return "", deny("physician key %s is limited to NPI %s; NPI %s is another clinician's", p.KeyID, p.NPI, asked)
}

// SeesTINs says whether a caller may see something spanning tins (empty:
// every practice): operators see everything, others what includes their TIN.
func (p Principal) SeesTINs(tins []string) bool {
	return p.Role == Operator || len(tins) == 0 || slices.Contains(tins, p.TIN)
}

type ctxKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the caller in ctx. Calls that reached a handler always carry
// one; a context without one is an operator's (in-process jobs).
func From(ctx context.Context) Principal {
	if p, ok := ctx.Value(ctxKey{}).(Principal); ok {
		return p
	}
	return Principal{Role: Operator, KeyID: "internal"}
}

// Tokens are "lsk_<id>_<secret>": the id (16 hex digits) finds the key, the
// secret (32 random bytes, base64url) proves it.
const tokenPrefix = "lsk_"

// NewToken makes a key id, the token to hand out, and the salt and hash to store.
func NewToken() (id, token string, salt, hash []byte, err error) {
	raw := make([]byte, 8+32+16)
	if _, err = rand.Read(raw); err != nil {
		return "", "", nil, nil, err
	}
	id = hex.EncodeToString(raw[:8])
	secret := base64.RawURLEncoding.EncodeToString(raw[8:40])
	salt = raw[40:]
	return id, tokenPrefix + id + "_" + secret, salt, Hash(secret, salt), nil
}

// ParseToken splits a token into its key id and secret.
func ParseToken(token string) (id, secret string, ok bool) {
	rest, ok := strings.CutPrefix(token, tokenPrefix)
	if !ok {
		return "", "", false
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 16 || len(secret) != 43 {
		return "", "", false
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", "", false
	}
	return id, secret, true
}

// Hash is the stored form of a secret: argon2id with OWASP's minimum
// parameters for it (19 MiB, 2 passes, 1 lane; OWASP Password Storage Cheat
// Sheet), slow enough that a stolen table cannot be searched, and verified
// once per key per process thanks to the API's cache.
func Hash(secret string, salt []byte) []byte {
	return argon2.IDKey([]byte(secret), salt, 2, 19*1024, 1, 32)
}

// Verify checks a secret against a stored salt and hash in constant time.
func Verify(secret string, salt, hash []byte) bool {
	return subtle.ConstantTimeCompare(Hash(secret, salt), hash) == 1
}
