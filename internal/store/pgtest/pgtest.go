// Package pgtest starts throwaway PostgreSQL servers for tests: the real
// Debian server (initdb, postgres, pg_ctl), in a temporary directory,
// listening on a Unix socket in that directory only (no TCP port), with
// trust authentication for the socket, which only its owner can reach.
// OpenStore and TwoStores open pgstore stores on them for a test.
//
// A test package shares one server (Shared), started on first use and
// stopped by Main after the package's tests; every test gets its own empty
// database (NewDB). A test that stops and starts PostgreSQL under a running
// relay takes a private server (Start) instead.
//
// When the PostgreSQL binaries are missing the tests skip with a message,
// except under TETHER_CI=1, where they fail. Run as root, the server runs as
// the unprivileged user "nobody" (PostgreSQL refuses to run as root).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Superuser is the database role the throwaway servers create.
const Superuser = "tether"

// readyTimeout bounds how long a server may take to start.
const readyTimeout = 60 * time.Second

// Server is one running throwaway PostgreSQL.
type Server struct {
	// Dir is the data directory; the Unix socket is in it too.
	Dir  string
	bin  string
	cred *syscall.Credential
	proc *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	// settings are extra "name=value" server settings, after (so over)
	// the defaults.
	settings []string
}

var (
	shared    *Server
	sharedErr error
	sharedMu  sync.Mutex
	dbs       atomic.Uint64
)

// Main runs the package's tests and then stops the shared server, if one
// was started. Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Close()
	}
	return code
}

// Shared returns the package's server, starting it on first use; it skips
// (or fails under TETHER_CI=1) when PostgreSQL is not installed.
func Shared(t testing.TB) *Server {
	t.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		bin, err := findBin()
		if err != nil {
			unavailable(t, err)
		}
		shared, sharedErr = start(bin)
	}
	if sharedErr != nil {
		t.Fatalf("pgtest: %v", sharedErr)
	}
	return shared
}

// Start starts a private server that t's cleanup stops and removes.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := findBin()
	if err != nil {
		unavailable(t, err)
	}
	s, err := start(bin)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// unavailable skips t, or fails it under TETHER_CI=1.
func unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("TETHER_CI") == "1" {
		t.Fatalf("pgtest: %v (TETHER_CI=1: PostgreSQL is required; apt-get install postgresql)", err)
	}
	t.Skipf("pgtest: %v; install the postgresql package to run this test", err)
}

// findBin returns the directory holding initdb, postgres and pg_ctl.
func findBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("postgres"); err == nil {
			return filepath.Dir(p), nil
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(matches) > 0 {
		return filepath.Dir(matches[len(matches)-1]), nil
	}
	return "", errors.New("PostgreSQL server binaries (initdb, postgres) not found")
}

// start makes a data directory and starts a server in it, with extra
// "name=value" settings.
func start(bin string, settings ...string) (*Server, error) {
	dir, err := os.MkdirTemp("", "tether-pg-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin, settings: settings}
	if os.Geteuid() == 0 {
		cred, err := nobody()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		s.cred = cred
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := s.command("initdb", "-D", data, "-U", Superuser, "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	if err := s.Restart(); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// nobody returns the credentials of the unprivileged user the server runs as.
func nobody() (*syscall.Credential, error) {
	u, err := user.Lookup("nobody")
	if err != nil {
		return nil, fmt.Errorf("running as root needs the user nobody: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// command prepares one of the server's programs, run as the server's user.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Setpgid: true}
	return cmd
}

// Restart starts the server again after Stop (Start and Shared return a
// running server). It waits until the server accepts connections.
func (s *Server) Restart() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return errors.New("pgtest: server already running")
	}
	cmd := s.command("postgres", "-D", filepath.Join(s.Dir, "data"), "-k", s.Dir,
		"-c", "listen_addresses=", "-c", "fsync=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200")
	for _, kv := range s.settings {
		cmd.Args = append(cmd.Args, "-c", kv)
	}
	log, err := os.OpenFile(filepath.Join(s.Dir, "postgres.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.proc, s.done = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(s.done)
	return s.waitReady()
}

// waitReady polls until the server answers a query, or fails.
func (s *Server) waitReady() error {
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	for {
		c, err := pgx.Connect(ctx, s.URL("postgres"))
		if err == nil {
			c.Close(ctx)
			return nil
		}
		select {
		case <-s.done:
			out, _ := os.ReadFile(filepath.Join(s.Dir, "postgres.log"))
			return fmt.Errorf("postgres exited: %s", out)
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Stop stops the server at once (like a crash: SIGQUIT, no checkpoint);
// committed transactions survive, as PostgreSQL's WAL guarantees.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	s.proc.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
		s.proc.Process.Kill()
		<-s.done
	}
	s.proc = nil
}

// Close stops the server and removes its directory.
func (s *Server) Close() {
	s.Stop()
	os.RemoveAll(s.Dir)
}

// URL returns the connection URL of database db over the Unix socket.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://%s@/%s?host=%s&sslmode=disable", Superuser, db, s.Dir)
}

// NewDB creates an empty database and returns its URL; t's cleanup drops it.
func (s *Server) NewDB(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbs.Add(1))
	if err := s.exec("CREATE DATABASE " + name + " TEMPLATE template0"); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() { s.exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	return s.URL(name)
}

// exec runs one statement in the postgres database.
func (s *Server) exec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, s.URL("postgres"))
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	_, err = c.Exec(ctx, sql)
	return err
}
