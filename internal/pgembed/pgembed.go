// Package pgembed runs a private PostgreSQL cluster from the machine's
// PostgreSQL server binaries, as a child process listening only on a Unix
// socket in a private directory.
package pgembed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Database is the application database that Start creates if it is missing.
const Database = "liaison"

const (
	// Port only names the socket file (.s.PGSQL.<port>); the server listens on
	// no TCP port and the socket directory is private, so it cannot clash.
	Port         = 5432
	startTimeout = 30 * time.Second
	stopTimeout  = 30 * time.Second
	logName      = "server.log"
)

// Options configures Start.
type Options struct {
	// DataDir is the persistent cluster directory; it is created with initdb
	// if empty or missing. If "", a temporary directory is used and removed
	// by Stop.
	DataDir string
	// BinDir holds initdb and postgres; if "", FindBinaries searches for them.
	BinDir string
	// Logger receives lifecycle messages; nil discards them.
	Logger *slog.Logger
	// Settings are extra postgresql.conf settings (e.g. "fsync": "off" for
	// tests); they override the defaults.
	Settings map[string]string
}

// defaultSettings apply to every cluster unless overridden by Options.Settings.
var defaultSettings = map[string]string{
	"max_connections": "100",
	"shared_buffers":  "256MB",
	// Bulk ingest writes a lot of WAL in one transaction; the 1GB default
	// forces checkpoints in the middle of a load.
	"max_wal_size":            "8GB",
	"checkpoint_timeout":      "15min",
	"unix_socket_permissions": "0777", // access is restricted by the socket directory instead
}

// Cluster is a running PostgreSQL server started by Start.
type Cluster struct {
	log      *slog.Logger
	binDir   string
	cred     *syscall.Credential // nil: run the server as ourselves
	dataDir  string
	tempDir  string // removed by Stop; "" for a persistent DataDir
	sockDir  string
	cmd      *exec.Cmd
	settings map[string]string // Options.Settings, kept for Restart
	done     chan struct{}     // closed when the server process has exited
	waitErr  error             // valid after done is closed

	mu       sync.Mutex // guards done and stopping against Supervise
	stopping bool       // Stop or Halt asked the server to exit

	stopOnce sync.Once
	stopErr  error
}

// Start initializes the cluster if needed, starts the server and waits until
// it accepts connections and the Database exists.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	binDir, err := FindBinaries(opts.BinDir)
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	c := &Cluster{log: opts.Logger, binDir: binDir, cred: cred, done: make(chan struct{})}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if err := c.start(ctx, opts); err != nil {
		_ = c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx context.Context, opts Options) error {
	if err := c.initDataDir(opts.DataDir); err != nil {
		return err
	}
	// The socket directory lives in the temp dir rather than under DataDir
	// because socket paths are limited to ~107 bytes.
	var err error
	if c.sockDir, err = os.MkdirTemp("", "lpg"); err != nil {
		return err
	}
	if err := c.chown(c.sockDir); err != nil {
		return err
	}
	c.settings = opts.Settings
	return c.run(ctx)
}

// run starts the server process and waits until it is ready.
func (c *Cluster) run(ctx context.Context) error {
	if err := c.startServer(c.settings); err != nil {
		return err
	}
	if err := c.waitReady(ctx); err != nil {
		return fmt.Errorf("pgembed: %w; server log %s ends with:\n%s", err, c.logPath(), logTail(c.logPath()))
	}
	c.log.Info("postgres started", "pid", c.cmd.Process.Pid, "datadir", c.dataDir, "socketdir", c.sockDir)
	return nil
}

// initDataDir runs initdb unless dir already holds a cluster.
func (c *Cluster) initDataDir(dir string) error {
	temp := dir == ""
	if temp {
		d, err := os.MkdirTemp("", "lpgdata")
		if err != nil {
			return err
		}
		c.tempDir, dir = d, d
	} else {
		var err error
		if dir, err = filepath.Abs(dir); err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err == nil {
			c.dataDir = dir
			return removeStalePID(dir)
		}
		// Parents must stay traversable by the server user; the data dir
		// itself must be private or postgres refuses to start.
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return err
		}
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	}
	c.dataDir = dir
	if err := c.chown(dir); err != nil {
		return err
	}
	// Trust auth is safe because only the private socket is reachable.
	// --no-locale keeps sorting and behaviour independent of the host locale.
	// --data-checksums: a page damaged on disk is reported when read, not
	// served as data.
	args := []string{"-D", dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--data-checksums"}
	if temp {
		args = append(args, "--no-sync") // nothing to protect
	}
	c.log.Info("initializing postgres cluster", "datadir", dir)
	if out, err := c.command("initdb", args...).CombinedOutput(); err != nil {
		hint := ""
		if c.cred != nil {
			hint = " (runs as user postgres, which must be able to reach it)"
		}
		return fmt.Errorf("pgembed: initdb %s%s: %w\n%s", dir, hint, err, out)
	}
	return nil
}

// removeStalePID removes postmaster.pid if the process it names is gone or
// is no longer a postgres (PID reuse, e.g. after a container restart), since
// postgres would otherwise refuse to start.
func removeStalePID(dataDir string) error {
	path := filepath.Join(dataDir, "postmaster.pid")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if pid, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && pid > 0 {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err == nil && strings.TrimSpace(string(comm)) == "postgres" {
			return fmt.Errorf("pgembed: data directory %s is in use by running postgres (pid %d)", dataDir, pid)
		}
	}
	return os.Remove(path)
}

func (c *Cluster) startServer(extra map[string]string) error {
	settings := maps.Clone(defaultSettings)
	maps.Copy(settings, extra)
	maps.Copy(settings, map[string]string{
		"listen_addresses":        "", // no network
		"unix_socket_directories": c.sockDir,
		"port":                    strconv.Itoa(Port),
		"logging_collector":       "off", // stderr goes to our log file
	})
	args := []string{"-D", c.dataDir}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		args = append(args, "-c", k+"="+settings[k])
	}

	logFile, err := os.OpenFile(c.logPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child has its own copy
	if err := c.chown(logFile.Name()); err != nil {
		return err
	}

	c.cmd = c.command("postgres", args...)
	c.cmd.Stdout, c.cmd.Stderr = logFile, logFile
	// Own process group: terminal signals don't reach the server, so our
	// caller decides when it shuts down, and Stop can kill all backends.
	c.cmd.SysProcAttr.Setpgid = true
	// If we die, the kernel sends SIGINT, which postgres treats as fast
	// shutdown. (It is tied to the forking OS thread, which the Go runtime
	// only ends for goroutines that exit while locked to their thread.)
	c.cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
	if err := c.cmd.Start(); err != nil {
		c.cmd = nil
		return fmt.Errorf("pgembed: start postgres: %w", err)
	}
	cmd, done := c.cmd, c.done
	go func() {
		c.waitErr = cmd.Wait()
		close(done)
	}()
	return nil
}

// waitReady polls until the server accepts connections, then creates Database.
func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err == nil {
			defer conn.Close(context.WithoutCancel(ctx))
			return createDatabase(ctx, conn, Database)
		}
		select {
		case <-c.done:
			return fmt.Errorf("postgres exited during startup: %v", c.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("postgres not accepting connections after %s: %w", startTimeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func createDatabase(ctx context.Context, conn *pgx.Conn, name string) error {
	var exists bool
	err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists)
	if err == nil && !exists {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	}
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// URL returns a connection URL for database dbname over the private socket.
func (c *Cluster) URL(dbname string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User("postgres"),
		Path:     "/" + dbname,
		RawQuery: url.Values{"host": {c.sockDir}, "port": {strconv.Itoa(Port)}, "sslmode": {"disable"}}.Encode(),
	}
	return u.String()
}

// Stop shuts the server down (fast shutdown, then SIGKILL after 30 s) and
// removes temporary directories. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

func (c *Cluster) stop() error {
	var err error
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	if c.cmd != nil {
		// Fast shutdown: abort transactions, checkpoint, exit.
		err = c.signalAndWait(syscall.SIGINT)
		c.log.Info("postgres stopped", "datadir", c.dataDir, "err", err)
	}
	for _, d := range []string{c.sockDir, c.tempDir} {
		if d != "" {
			err = errors.Join(err, os.RemoveAll(d))
		}
	}
	return err
}

// signalAndWait sends sig to the server and waits for it to exit, killing
// the whole process group if it has not within stopTimeout.
func (c *Cluster) signalAndWait(sig syscall.Signal) error {
	_ = c.cmd.Process.Signal(sig)
	select {
	case <-c.done:
		if c.waitErr != nil {
			return fmt.Errorf("pgembed: postgres exited: %w", c.waitErr)
		}
		return nil
	case <-time.After(stopTimeout):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL) // whole group, backends included
		<-c.done
		return fmt.Errorf("pgembed: postgres did not shut down within %s; killed it", stopTimeout)
	}
}

// Halt stops the server but keeps its data and socket directories, so that
// Restart brings the same cluster back at the same URL: fault-injection
// tests use the pair to take the database away from a running liaisond.
// immediate selects PostgreSQL's immediate shutdown (SIGQUIT: backends quit
// at once, no checkpoint, crash recovery at the next start) rather than a
// fast one (SIGINT: transactions aborted, then a checkpoint).
func (c *Cluster) Halt(immediate bool) error {
	if c.cmd == nil {
		return errors.New("pgembed: Halt: the server is not running")
	}
	sig := syscall.SIGINT
	if immediate {
		sig = syscall.SIGQUIT
	}
	c.mu.Lock()
	c.stopping = true
	c.mu.Unlock()
	err := c.signalAndWait(sig)
	c.cmd = nil
	c.log.Info("postgres halted", "datadir", c.dataDir, "immediate", immediate, "err", err)
	return err
}

// Restart starts the server again after Halt and waits until it accepts
// connections.
func (c *Cluster) Restart(ctx context.Context) error {
	if c.cmd != nil {
		return errors.New("pgembed: Restart: the server is running; Halt it first")
	}
	c.mu.Lock()
	c.done, c.waitErr, c.stopping = make(chan struct{}), nil, false
	c.mu.Unlock()
	return c.run(ctx)
}

// Supervise brings the server back whenever it exits on its own (a crash,
// a kill, the OOM killer), not by Stop or Halt, so that liaisond keeps
// serving instead of answering 503 until someone restarts it. It tries at
// most maxRestarts times an hour, waiting longer after each failed try,
// and says in the log when it gives up. It returns at once; supervision
// ends with ctx, Stop or Halt.
func (c *Cluster) Supervise(ctx context.Context, maxRestarts int) {
	go func() {
		var recent []time.Time
		for {
			c.mu.Lock()
			done := c.done
			c.mu.Unlock()
			select {
			case <-ctx.Done():
				return
			case <-done:
			}
			c.mu.Lock()
			stopping := c.stopping
			c.mu.Unlock()
			if stopping {
				return
			}
			c.log.Warn("postgres exited on its own; restarting it", "err", c.waitErr, "datadir", c.dataDir)
			for wait := time.Second; ; wait = min(2*wait, time.Minute) {
				now := time.Now()
				recent = slices.DeleteFunc(recent, func(t time.Time) bool { return now.Sub(t) > time.Hour })
				if len(recent) >= maxRestarts {
					c.log.Error("postgres keeps exiting; no more restarts this hour", "restarts", len(recent), "log", c.logPath())
					return
				}
				recent = append(recent, now)
				c.mu.Lock()
				c.cmd, c.done, c.waitErr = nil, make(chan struct{}), nil
				c.mu.Unlock()
				err := c.run(ctx)
				if err == nil {
					c.log.Info("postgres restarted", "restarts this hour", len(recent))
					break
				}
				c.log.Error("restarting postgres", "err", err)
				if c.cmd != nil { // it started but never became ready
					_ = c.signalAndWait(syscall.SIGKILL)
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(wait):
				}
			}
		}
	}()
}

// PID is the server process's id (0 when it is not running), for tests
// that kill it.
func (c *Cluster) PID() int {
	if c.cmd == nil || c.cmd.Process == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

func (c *Cluster) logPath() string { return filepath.Join(c.dataDir, logName) }

// command prepares a server binary to run as the server user.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.binDir, name), args...)
	cmd.Dir = "/"                              // the server user may not be able to reach our working directory
	cmd.Env = append(os.Environ(), "LC_ALL=C") // stable English messages, no complaints about missing locales
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	return cmd
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	return os.Chown(path, int(c.cred.Uid), int(c.cred.Gid))
}

// serverCredential returns the user to run the server as: PostgreSQL refuses
// to run as root, so root uses the "postgres" system user.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgembed: running as root, but PostgreSQL refuses to run as root and there is no 'postgres' user to run it as (%w); install the Debian package 'postgresql', which creates it, or run: useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgembed: postgres user: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// logTail returns the end of the server log, for error messages.
func logTail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > 4096 {
		_, _ = f.Seek(-4096, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// FindBinaries returns the directory holding initdb and postgres: binDir if
// given, else the directory of postgres on PATH (symlinks resolved), else the
// highest version under /usr/lib/postgresql/*/bin.
func FindBinaries(binDir string) (string, error) {
	var candidates []string
	if binDir != "" {
		candidates = []string{binDir}
	} else {
		if p, err := exec.LookPath("postgres"); err == nil {
			if p, err = filepath.EvalSymlinks(p); err == nil {
				candidates = append(candidates, filepath.Dir(p))
			}
		}
		dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
		slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
		candidates = append(candidates, dirs...)
	}
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	where := "on PATH or under /usr/lib/postgresql/*/bin"
	if binDir != "" {
		where = "in " + binDir
	}
	return "", fmt.Errorf("PostgreSQL server binaries (initdb, postgres) not found %s; install the Debian package 'postgresql' (apt-get install postgresql)", where)
}

// versionOf extracts the major version from /usr/lib/postgresql/<v>/bin.
func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}
