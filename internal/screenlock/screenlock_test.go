package screenlock

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLockCmdRunsOncePerCall(t *testing.T) {
	out := filepath.Join(t.TempDir(), "locks")
	t.Setenv("OUT", out)
	l := Locker{Cmd: `echo locked >> "$OUT"`}
	for i := 1; i <= 3; i++ {
		m, err := l.Lock(context.Background())
		if err != nil || m != CustomMethod {
			t.Fatalf("Lock() = %q, %v; want %q, nil", m, err, CustomMethod)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Count(string(b), "locked\n"); got != i {
			t.Errorf("after %d calls the command ran %d times", i, got)
		}
	}
}

func TestLockCmdFails(t *testing.T) {
	m, err := Locker{Cmd: "exit 2"}.Lock(context.Background())
	if !errors.Is(err, ErrNotLocked) || m != "" {
		t.Fatalf("Lock() = %q, %v; want \"\", ErrNotLocked", m, err)
	}
	if !strings.Contains(err.Error(), "exit status 2") {
		t.Errorf("error %q does not say how the command failed", err)
	}
}

func TestLockMethods(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DIR", dir)
	tests := []struct {
		name       string
		methods    []candidate
		wantMethod string
		wantErrIn  []string // empty: success expected
		wantRan    []string // marker files that must exist
		wantNotRan []string // marker files that must not exist
	}{
		{
			name: "all fail",
			methods: []candidate{
				cmd("tether-no-such-lock-tool", "lock"),
				cmd("sh", "-c", `touch "$DIR/b"; echo "no locker here" >&2; exit 1`),
			},
			wantErrIn: []string{"tether-no-such-lock-tool lock:", `exit 1: exit status 1 (no locker here)`},
			wantRan:   []string{"b"},
		},
		{
			name: "second works, third not tried",
			methods: []candidate{
				cmd("sh", "-c", "exit 1"),
				cmd("sh", "-c", `touch "$DIR/ok"`),
				cmd("sh", "-c", `touch "$DIR/third"`),
			},
			wantMethod: `sh -c touch "$DIR/ok"`,
			wantRan:    []string{"ok"},
			wantNotRan: []string{"third"},
		},
		{
			name:      "none",
			methods:   []candidate{},
			wantErrIn: []string{"no lock method"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			l := Locker{methods: tt.methods, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			m, err := l.Lock(context.Background())
			if m != tt.wantMethod {
				t.Errorf("Lock() method = %q, want %q", m, tt.wantMethod)
			}
			if len(tt.wantErrIn) == 0 && err != nil {
				t.Errorf("Lock() error = %v, want nil", err)
			}
			if len(tt.wantErrIn) > 0 && !errors.Is(err, ErrNotLocked) {
				t.Fatalf("Lock() error = %v, want ErrNotLocked", err)
			}
			for _, s := range tt.wantErrIn {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Lock() error = %q, want it to contain %q", err, s)
				}
			}
			for _, f := range tt.wantRan {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Errorf("method creating %q did not run: %v", f, err)
				}
			}
			for _, f := range tt.wantNotRan {
				if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
					t.Errorf("method creating %q ran, want it not tried", f)
				}
			}
			if len(tt.methods) > 0 && !strings.Contains(logs.String(), "screenlock: method failed") {
				t.Errorf("no failed attempt logged; logs: %q", logs.String())
			}
		})
	}
}

func TestLockCancelledStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	l := Locker{methods: []candidate{cmd("sh", "-c", "exit 0"), cmd("sh", "-c", "exit 0")}}
	if m, err := l.Lock(ctx); !errors.Is(err, ErrNotLocked) {
		t.Errorf("Lock(cancelled) = %q, %v; want ErrNotLocked", m, err)
	}
}

func TestDescribe(t *testing.T) {
	_, failed := Locker{Cmd: "echo 'locker broke' >&2; exit 3"}.Lock(context.Background())
	tests := []struct {
		method string
		err    error
		want   string
	}{
		{"xscreensaver-command -lock", nil, "screen locked (xscreensaver-command -lock)"},
		{"", failed, "screen lock FAILED: custom command: exit status 3 (locker broke)"},
	}
	for _, tt := range tests {
		if got := Describe(tt.method, tt.err); got != tt.want {
			t.Errorf("Describe(%q, %v) = %q, want %q", tt.method, tt.err, got, tt.want)
		}
	}
}

func TestLockStderrBounded(t *testing.T) {
	_, err := Locker{Cmd: "head -c 100000 /dev/zero | tr '\\0' x >&2; exit 1"}.Lock(context.Background())
	if err == nil || len(err.Error()) > 300 {
		t.Fatalf("Lock() error = %d bytes (%v), want a failure of at most 300 bytes", len(fmt.Sprint(err)), err)
	}
}
