package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc/metadata"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/store"
)

// errUnauthenticated is the one answer to every bad key, so a caller cannot
// tell an unknown key from a wrong secret, a revoked or an expired one.
var errUnauthenticated = errors.New("a valid API key is required: send `authorization: Bearer <key>` (liaison keys create makes one)")

// keyRecheck is how long a verified key is trusted before its row is read
// again: a revocation made through another server takes effect within it
// (one made through this server, at once).
const keyRecheck = 5 * time.Second

// authenticator turns bearer tokens into principals. The slow hash is
// computed once per token per process (and once at a time per token, and
// two at a time in all: each takes 19 MiB); after that a token costs a
// map lookup, plus a row read every keyRecheck.
type authenticator struct {
	store *store.Store
	log   *slog.Logger
	now   func() time.Time

	mu       sync.Mutex
	verified map[[32]byte]*verifiedKey
	flight   singleflight.Group
	hashing  chan struct{}
	looking  chan struct{} // tokens being looked up (not yet verified here)
	fails    failures
	hashed   atomic.Int64 // slow hashes computed, for tests of their equal cost
}

// maxLookups bounds the tokens looked up at once: work for callers not yet
// known to hold a key. Beyond it a new token is refused at once (retry),
// so random keys sent in bulk cannot queue up database reads.
const maxLookups = 32

// errBusy refuses a lookup beyond maxLookups.
var errBusy = errors.New("too many API keys being checked at once; retry in a moment")

// errTooManyFailures refuses a key id or a client with too many failed
// attempts in the last failPeriod, before any work on the token.
var errTooManyFailures = errors.New("too many failed attempts with this key or from this client; wait a minute")

type verifiedKey struct {
	principal access.Principal
	checked   time.Time
	touched   time.Time
	expires   time.Time // zero: never; a cached key stops at its expiry, not at the next recheck
}

func newAuthenticator(st *store.Store, log *slog.Logger) *authenticator {
	return &authenticator{store: st, log: log, now: time.Now, verified: map[[32]byte]*verifiedKey{}, hashing: make(chan struct{}, 2),
		looking: make(chan struct{}, maxLookups), fails: failures{max: DefaultMaxAuthFailures, m: map[string]*failWindow{}}}
}

// bearer reads the token from gRPC metadata; the REST gateway passes the
// HTTP Authorization header through as the same metadata.
func bearer(ctx context.Context) string {
	md, _ := metadata.FromIncomingContext(ctx)
	return bearerOf(md)
}

// bearerOf reads the token from request headers (gRPC metadata, or HTTP
// headers under lower-case names).
func bearerOf(md metadata.MD) string {
	const scheme = "bearer " // matched without regard to case (RFC 6750 §2.1, RFC 9110 §11.1)
	for _, v := range md.Get("authorization") {
		if len(v) > len(scheme) && strings.EqualFold(v[:len(scheme)], scheme) {
			return strings.TrimSpace(v[len(scheme):])
		}
	}
	return ""
}

// authenticate returns the caller, or errUnauthenticated, errBusy,
// errTooManyFailures or a database error. client names where the call came
// from (an address; "" for calls already checked at the door), for the
// bound on failed attempts.
func (a *authenticator) authenticate(ctx context.Context, token, client string) (access.Principal, error) {
	id, secret, ok := access.ParseToken(token)
	if !ok {
		return access.Principal{}, errUnauthenticated
	}
	sum := sha256.Sum256([]byte(token))
	now := a.now()
	a.mu.Lock()
	v := a.verified[sum]
	if v != nil && !v.expires.IsZero() && !now.Before(v.expires) {
		delete(a.verified, sum)
		a.mu.Unlock()
		return access.Principal{}, errUnauthenticated
	}
	if v != nil && now.Sub(v.checked) < keyRecheck {
		p := v.principal
		a.mu.Unlock()
		return p, nil
	}
	a.mu.Unlock()
	// A token not verified here is worth guessing at: bound the failures
	// per key id and per client before any lookup or hash. One verified
	// here before is only due for its recheck (a row read, no hash, which
	// notices a revocation): it is not held up by failures of others from
	// its client.
	if v == nil && a.fails.blocked(now, "key:"+id, "client:"+client) {
		return access.Principal{}, errTooManyFailures
	}
	p, err, _ := a.flight.Do(string(sum[:]), func() (any, error) {
		// One slot per distinct token: callers sharing a new token wait
		// for its one lookup.
		select {
		case a.looking <- struct{}{}:
			defer func() { <-a.looking }()
		default:
			return nil, errBusy
		}
		k, err := a.store.GetKey(ctx, id)
		known := err == nil
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if v == nil || !known {
			// First sight of this token here: the slow hash, bounded. An
			// unknown key id is hashed too, against a stand-in, so that
			// its answer takes as long as a wrong secret's.
			salt, hash := k.Salt, k.Hash
			if !known {
				salt, hash = standIn.salt, standIn.hash
			}
			select {
			case a.hashing <- struct{}{}:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			ok := access.Verify(secret, salt, hash)
			a.hashed.Add(1)
			<-a.hashing
			if !ok || !known {
				return nil, errUnauthenticated
			}
		}
		if !k.Active(now) {
			a.forget(sum)
			return nil, errUnauthenticated
		}
		a.mu.Lock()
		nv := &verifiedKey{principal: k.Principal, checked: now, expires: k.ExpiresAt}
		if v != nil {
			nv.touched = v.touched
		}
		touch := now.Sub(nv.touched) > time.Minute
		if touch {
			nv.touched = now
		}
		a.verified[sum] = nv
		a.mu.Unlock()
		if touch {
			// Last use is a hint for operators, so it is written at most
			// once a minute per key and never delays the call.
			go func() {
				tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if err := a.store.TouchKey(tctx, id, now); err != nil {
					a.log.Warn("recording key use", "key_id", id, "err", err)
				}
			}()
		}
		return k.Principal, nil
	})
	if errors.Is(err, errUnauthenticated) {
		a.fails.add(now, "key:"+id, "client:"+client)
	}
	if err != nil {
		return access.Principal{}, err
	}
	return p.(access.Principal), nil
}

// standIn is a salt and hash no secret matches, verified against for an
// unknown key id.
var standIn = func() (k struct{ salt, hash []byte }) {
	k.salt = []byte("liaison-stand-in")
	k.hash = access.Hash("no secret matches this", k.salt)
	k.hash[0] ^= 0xff
	return k
}()

func (a *authenticator) forget(sum [32]byte) {
	a.mu.Lock()
	delete(a.verified, sum)
	a.mu.Unlock()
}

// revoked drops every cached token of a key, so revoking takes effect at
// once on this server.
func (a *authenticator) revoked(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for sum, v := range a.verified {
		if v.principal.KeyID == id {
			delete(a.verified, sum)
		}
	}
}
