package api

import (
	"sync"
	"time"
)

// Failed authentications are bounded per key id (guessing one key's secret)
// and per client (spraying keys): DefaultMaxAuthFailures in failPeriod,
// after which the key id or the client is refused at once until the period
// ends.
const (
	DefaultMaxAuthFailures = 20
	failPeriod             = time.Minute
	maxTracked             = 100_000 // keys and clients remembered; expired windows are dropped first
)

// failures counts failed attempts per name ("key:<id>", "client:<addr>").
type failures struct {
	max int // failures allowed in failPeriod; negative: unbounded
	mu  sync.Mutex
	m   map[string]*failWindow
}

type failWindow struct {
	start time.Time
	n     int
}

// blocked reports whether any of names has used up its failures.
func (f *failures) blocked(now time.Time, names ...string) bool {
	if f.max < 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, name := range names {
		if w := f.m[name]; w != nil && now.Sub(w.start) < failPeriod && w.n >= f.max {
			return true
		}
	}
	return false
}

// add counts one failure for each of names ("client:" alone, a call with
// no client, is not counted).
func (f *failures) add(now time.Time, names ...string) {
	if f.max < 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.m) >= maxTracked {
		for name, w := range f.m {
			if now.Sub(w.start) >= failPeriod {
				delete(f.m, name)
			}
		}
	}
	for _, name := range names {
		if name == "client:" || len(f.m) >= maxTracked && f.m[name] == nil {
			continue
		}
		w := f.m[name]
		if w == nil || now.Sub(w.start) >= failPeriod {
			w = &failWindow{start: now}
			f.m[name] = w
		}
		w.n++
	}
}
