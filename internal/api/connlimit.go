package api

import (
	"net"
	"sync"
)

// DefaultMaxConnsPerClient bounds the connections one address holds open
// at once, on each port: a client needs a few (gRPC multiplexes calls on
// one; a browser or curl opens some), an attack holds hundreds.
const DefaultMaxConnsPerClient = 512

// perClientListener closes, at once, connections beyond max from one
// address, so that no client can hold every file descriptor (slowloris).
type perClientListener struct {
	net.Listener
	max int
	mu  sync.Mutex
	n   map[string]int
}

func limitPerClient(l net.Listener, max int) net.Listener {
	if max <= 0 {
		return l
	}
	return &perClientListener{Listener: l, max: max, n: map[string]int{}}
}

func (l *perClientListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := hostOf(c.RemoteAddr().String())
		l.mu.Lock()
		if l.n[host] >= l.max {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.n[host]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(host) }}, nil
	}
}

func (l *perClientListener) release(host string) {
	l.mu.Lock()
	if l.n[host]--; l.n[host] <= 0 {
		delete(l.n, host)
	}
	l.mu.Unlock()
}

// countedConn gives its slot back once, when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}
