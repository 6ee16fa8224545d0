package api_test

import (
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/app"
)

// Issue 15, item 1: 300 connections trickling a request's headers a byte
// every 5 s are all dropped (headers must arrive within 10 s), and keyed
// calls are served meanwhile.
func TestTricklingClientsAreDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 15 s")
	}
	e := newEnv(t)
	const n = 300
	var wg sync.WaitGroup
	dropped := make(chan time.Duration, n)
	start := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", e.srv.HTTPAddr)
			if err != nil {
				dropped <- 0
				return
			}
			defer c.Close()
			req := "GET /v1/measures HTTP/1.1\r\nHost: liaison\r\nX-Slow: " + string(make([]byte, 64))
			for i := range len(req) {
				if _, err := c.Write([]byte{req[i]}); err != nil {
					dropped <- time.Since(start)
					return
				}
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
					dropped <- time.Since(start) // closed by the server
					return
				}
			}
			dropped <- -1 // never dropped
		}()
	}
	time.Sleep(2 * time.Second)
	if code, _ := e.rest(http.MethodGet, "/v1/measures", nil); code != http.StatusOK {
		t.Errorf("keyed call during the trickle: %d", code)
	}
	wg.Wait()
	close(dropped)
	late := 0
	for d := range dropped {
		if d < 0 || d > 20*time.Second {
			late++
		}
	}
	if late > 0 {
		t.Errorf("%d of %d trickling connections were not dropped within 20 s", late, n)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// One address may hold at most MaxConnsPerClient connections on a port;
// more are closed at once.
func TestConnectionsPerClientAreBounded(t *testing.T) {
	e := newEnvWith(t, app.Options{MaxConnsPerClient: 20})
	for _, addr := range []string{e.srv.HTTPAddr, e.srv.GRPCAddr} {
		var conns []net.Conn
		closed := 0
		for range 30 {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				closed++
				continue
			}
			conns = append(conns, c)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.SetReadDeadline(time.Now().Add(time.Second))
				if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
					mu.Lock()
					closed++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
		// gRPC writes its settings frame at once on a kept connection:
		// a read that returns data is a kept connection too.
		if closed != 10 {
			t.Errorf("%s: %d of 30 connections closed at once, want the 10 beyond the bound", addr, closed)
		}
	}
}

// Keyed clients trickling a request body a byte every 5 s are dropped too
// once the grace period is over (the body must keep up 4 KiB/s), while a
// keyed call with a whole body is served.
func TestTricklingBodiesAreDropped(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 15 s")
	}
	e := newEnv(t)
	const n = 50
	dropped := make(chan time.Duration, n)
	start := time.Now()
	for range n {
		go func() {
			c, err := net.Dial("tcp", e.srv.HTTPAddr)
			if err != nil {
				dropped <- 0
				return
			}
			defer c.Close()
			head := "POST /v1/ingest HTTP/1.1\r\nHost: liaison\r\nAuthorization: Bearer " + e.srv.OperatorKey +
				"\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
			if _, err := c.Write([]byte(head)); err != nil {
				dropped <- time.Since(start)
				return
			}
			for range 20 { // 20 bytes over 100 s at most
				if _, err := c.Write([]byte(" ")); err != nil {
					dropped <- time.Since(start)
					return
				}
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, err := c.Read(make([]byte, 512)); err != nil && !isTimeout(err) {
					dropped <- time.Since(start) // answered and closed by the server
					return
				}
			}
			dropped <- -1
		}()
	}
	if code, _ := e.rest(http.MethodGet, "/v1/measures", nil); code != http.StatusOK {
		t.Errorf("keyed call during the trickle: %d", code)
	}
	for range n {
		if d := <-dropped; d < 0 || d > 25*time.Second {
			t.Fatalf("a trickling body held its connection for %v (-1: never dropped)", d)
		}
	}
	// An import whose body arrives at once is served.
	if code, body := e.rest(http.MethodPost, "/v1/ingest", map[string]any{"records": []any{}}); code != http.StatusOK {
		t.Errorf("a whole body: %d %v", code, body)
	}
}
