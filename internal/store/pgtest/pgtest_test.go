package pgtest_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/tether-support/tether/internal/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestNewDB: two databases of the shared server are separate and usable,
// and the server runs as a user that is not root.
func TestNewDB(t *testing.T) {
	s := pgtest.Shared(t)
	ctx := context.Background()
	a, b := s.NewDB(t), s.NewDB(t)
	if a == b {
		t.Fatal("two tests got the same database")
	}
	c, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE TABLE x (v int)"); err != nil {
		t.Fatal(err)
	}
	c2, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close(ctx)
	if _, err := c2.Exec(ctx, "SELECT v FROM x"); err == nil {
		t.Fatal("table of database a visible in database b")
	}
}

// TestStopRestart: a private server stops (connections fail) and comes back
// with its committed data.
func TestStopRestart(t *testing.T) {
	s := pgtest.Start(t)
	ctx := context.Background()
	url := s.NewDB(t)
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, "CREATE TABLE x (v int); INSERT INTO x VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	s.Stop()
	if c, err := pgx.Connect(ctx, url); err == nil {
		c.Close(ctx)
		t.Fatal("connected to a stopped server")
	}
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	c, err = pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var v int
	if err := c.QueryRow(ctx, "SELECT v FROM x").Scan(&v); err != nil || v != 42 {
		t.Fatalf("after restart: %d, %v", v, err)
	}
}

// TestLaunch: a server started outside a test's lifetime takes databases
// by name, refuses names that are not plain identifiers, and is gone after
// Close.
func TestLaunch(t *testing.T) {
	if _, err := exec.LookPath("initdb"); err != nil && os.Getenv("TETHER_CI") != "1" {
		if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres"); len(m) == 0 {
			t.Skip("PostgreSQL is not installed")
		}
	}
	if _, err := pgtest.Launch("fsync"); err == nil {
		t.Fatal("a setting without a value was accepted")
	}
	s, err := pgtest.Launch("fsync=on", "synchronous_commit=on")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, bad := range []string{"", "Bench", "a;DROP DATABASE postgres", "1x", strings.Repeat("a", 64)} {
		if _, err := s.CreateDB(bad); err == nil {
			t.Errorf("CreateDB(%q) accepted", bad)
		}
	}
	url, err := s.CreateDB("bench_pg")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	var db, fsync string
	if err := c.QueryRow(ctx, "SELECT current_database(), current_setting('fsync')").Scan(&db, &fsync); err != nil || db != "bench_pg" || fsync != "on" {
		t.Fatalf("connected to %q with fsync %q (%v), want bench_pg with fsync on", db, fsync, err)
	}
	c.Close(ctx)
	s.Close()
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("server directory left behind: %v", err)
	}
}
