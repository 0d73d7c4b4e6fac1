// Package pgtest starts a real PostgreSQL server for tests: initdb and
// pg_ctl from the installed PostgreSQL (Debian's postgresql-15), run as an
// unprivileged user in a temporary directory on a free 127.0.0.1 port.
//
// One server serves a whole test binary: call Main from TestMain, and
// NewDatabase from each test for a fresh, empty database that is dropped
// when the test ends. The server starts on the first NewDatabase, so a
// binary whose PostgreSQL tests are filtered out never starts one.
//
// Without the PostgreSQL binaries tests skip, unless CI=true, where they
// fail with a message saying what to install.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is one running PostgreSQL cluster.
type Server struct {
	bin     string // directory of initdb, pg_ctl, postgres
	dir     string // temp root: data/, sock/, log
	data    string
	sock    string
	Port    int
	cred    *syscall.Credential // nil when not root
	started bool
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
	dbCount    atomic.Int64
)

// Main runs the tests of m and stops the shared server, if one started.
// Use it as TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

// Stop stops the shared server, if one started, and removes its files.
func Stop() {
	if shared != nil {
		if err := shared.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
		}
	}
}

// Available returns nil when PostgreSQL's binaries are installed, else
// the error saying what to install.
func Available() error {
	_, err := findBin()
	return err
}

// Shared returns the binary's server, starting it on first use. It skips
// tb (or fails it under CI=true) when PostgreSQL is not installed.
func Shared(tb testing.TB) *Server {
	tb.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	if sharedErr != nil {
		var nf notInstalled
		if errors.As(sharedErr, &nf) && os.Getenv("CI") != "true" {
			tb.Skip(sharedErr)
		}
		tb.Fatal(sharedErr)
	}
	return shared
}

// NewDatabase creates an empty database on the shared server and returns
// its connection string; the database is dropped when tb ends.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	return NewDatabaseFrom(tb, "")
}

var (
	templateMu sync.Mutex
	templates  = map[string]error{}
)

// Template makes database name on the shared server once per server and
// runs prepare on it (e.g. a schema migration, closing its connections
// when done); NewDatabaseFrom then copies it, which is cheaper than
// preparing each test's database anew.
func Template(tb testing.TB, name string, prepare func(dsn string) error) string {
	tb.Helper()
	s := Shared(tb)
	templateMu.Lock()
	defer templateMu.Unlock()
	err, done := templates[name]
	if !done {
		err = s.exec(context.Background(), "CREATE DATABASE "+name)
		if err == nil {
			err = prepare(s.DSN(name))
		}
		templates[name] = err
	}
	if err != nil {
		tb.Fatalf("pgtest: template %s: %v", name, err)
	}
	return name
}

// NewDatabaseFrom is NewDatabase copying template (from Template; ""
// for an empty database).
func NewDatabaseFrom(tb testing.TB, template string) string {
	tb.Helper()
	s := Shared(tb)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbCount.Add(1))
	ctx := context.Background()
	create := "CREATE DATABASE " + name
	if template != "" {
		create += " TEMPLATE " + template
	}
	// FILE_COPY copies the template's files (plus a checkpoint, cheap
	// with fsync off) instead of logging every block: half the time.
	create += " STRATEGY FILE_COPY"
	if err := s.exec(ctx, create); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		// FORCE ends sessions a test left open (a listener, a pool).
		if err := s.exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("pgtest: drop database %s: %v", name, err)
		}
	})
	return s.DSN(name)
}

// DSN is the connection string of database name on s.
func (s *Server) DSN(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, name)
}

func (s *Server) exec(ctx context.Context, sql string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// notInstalled is Start's error when the PostgreSQL binaries are missing.
type notInstalled struct{ msg string }

func (e notInstalled) Error() string { return e.msg }

// findBin returns the directory holding initdb and pg_ctl: $FACEKIT_PG_BIN,
// else the newest /usr/lib/postgresql/*/bin (Debian keeps them off PATH),
// else PATH.
func findBin() (string, error) {
	if d := os.Getenv("FACEKIT_PG_BIN"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgVersion(dirs[i]) > pgVersion(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", notInstalled{"pgtest: PostgreSQL binaries (initdb, pg_ctl) not found: install Debian's postgresql-15 (scripts/setup.sh) or set FACEKIT_PG_BIN"}
}

func pgVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Start initialises and starts a new cluster in a temporary directory.
func Start() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "facekit-pg-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{bin: bin, dir: dir, data: filepath.Join(dir, "data"), sock: filepath.Join(dir, "sock")}
	// PostgreSQL refuses to run as root: run it as nobody and hand it
	// the directory.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: running as root and no 'nobody' user to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	if err := s.run("initdb", "-D", s.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.run("mkdir", s.sock); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if s.Port, err = freePort(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := s.StartServer(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// StartServer starts the (stopped) server on its port and waits until it
// accepts connections.
func (s *Server) StartServer() error {
	// fsync off: these clusters hold test data only, and a test that kills
	// a facekit process kills a client, not the server. Durability against
	// a machine crash is PostgreSQL's, not something tests can check.
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB", s.Port, s.sock)
	if err := s.run("pg_ctl", "start", "-w", "-t", "60", "-D", s.data, "-l", filepath.Join(s.dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return fmt.Errorf("%w\nserver log:\n%s", err, log)
	}
	s.started = true
	return nil
}

// StopServer stops the server (fast shutdown: open sessions are ended).
func (s *Server) StopServer() error {
	if !s.started {
		return nil
	}
	s.started = false
	return s.run("pg_ctl", "stop", "-w", "-m", "fast", "-D", s.data)
}

// Close stops the server and removes its directory.
func (s *Server) Close() error {
	err := s.StopServer()
	return errors.Join(err, os.RemoveAll(s.dir))
}

// run runs a PostgreSQL binary (or mkdir) as the server's user.
func (s *Server) run(name string, args ...string) error {
	path := name
	if name != "mkdir" {
		path = filepath.Join(s.bin, name)
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = s.dir
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pgtest: %s %v: %w\n%s", name, args, err, out.Bytes())
	}
	return nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// CPUTime returns the CPU time the server's processes have used so far:
// the postmaster's own and its reaped children's, plus its live
// children's (backends, parallel workers). Benchmarks report it next to
// wall time, which a shared machine inflates. Linux only; 0 elsewhere.
func (s *Server) CPUTime() time.Duration {
	pidFile, err := os.ReadFile(filepath.Join(s.data, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pm, err := strconv.Atoi(strings.SplitN(string(pidFile), "\n", 2)[0])
	if err != nil {
		return 0
	}
	ticks := func(pid int, withChildren bool) (ppid int, t int64) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return 0, 0
		}
		// Fields after the parenthesised command name: state is field 3.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
		if len(f) < 15 {
			return 0, 0
		}
		ppid, _ = strconv.Atoi(f[1])
		n := 2
		if withChildren {
			n = 4
		}
		for _, v := range f[11 : 11+n] { // utime stime cutime cstime
			x, _ := strconv.ParseInt(v, 10, 64)
			t += x
		}
		return ppid, t
	}
	_, total := ticks(pm, true)
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == pm {
			continue
		}
		if ppid, t := ticks(pid, false); ppid == pm {
			total += t
		}
	}
	const hz = 100 // USER_HZ on Linux
	return time.Duration(total) * time.Second / hz
}
