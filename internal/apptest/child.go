package apptest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/liaison-registry/liaison/internal/app"
)

// When a test binary runs with childDBEnv set, it is a liaisond child
// process serving that database (on childAddrEnv if set), so that a test
// can kill a server with -9 and see what the crash leaves behind.
const (
	childDBEnv   = "LIAISON_TEST_CHILD_DB"
	childAddrEnv = "LIAISON_TEST_CHILD_ADDR"
)

// ServeIfChild turns this test binary into the liaisond child process
// StartChild asked for, and then never returns: the child serves until it
// is killed. Otherwise it returns at once. Call it first thing in TestMain
// (or an init function) of a package that uses StartChild.
func ServeIfChild() {
	url := os.Getenv(childDBEnv)
	if url == "" {
		return
	}
	addr := os.Getenv(childAddrEnv)
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	r, err := app.Start(context.Background(), app.Options{GRPCAddr: addr, HTTPAddr: "127.0.0.1:0", DatabaseURL: url,
		Logger: Logger(), RescueAfter: time.Second})
	if err != nil {
		fmt.Println("ERROR", err)
		os.Exit(1)
	}
	fmt.Println("LISTENING", r.GRPCAddr, r.OperatorKey)
	select {} // until killed
}

// Child is a liaisond child process started by StartChild.
type Child struct {
	Cmd  *exec.Cmd
	Addr string // gRPC
	// Key is the operator key the child created at start-up; it is empty
	// when the database already had one, whose key stays valid.
	Key string
}

// StartChild runs this test binary as a liaisond child process over the
// database at url, with gRPC on addr ("" picks a free port; a fixed one
// lets clients reconnect to a replacement after a kill). It returns once
// the child listens; the child is killed when the test ends.
func StartChild(t testing.TB, url, addr string) *Child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDBEnv+"="+url, childAddrEnv+"="+addr)
	cmd.Stderr = os.Stderr // the child's log, with LIAISON_TEST_LOG set
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "LISTENING" {
		t.Fatalf("child server: %q", line)
	}
	c := &Child{Cmd: cmd, Addr: f[1]}
	if len(f) > 2 {
		c.Key = f[2]
	}
	return c
}

// Kill kills the child with SIGKILL, as a crash or the OOM killer would,
// and waits for it to be gone.
func (c *Child) Kill(t testing.TB) {
	t.Helper()
	if err := c.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	c.Cmd.Wait() //nolint:errcheck // killed: the error says so
}

// WaitFor polls cond until it holds; the bound only keeps a broken server
// from hanging the test, it asserts nothing about speed.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
