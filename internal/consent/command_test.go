//go:build unix

package consent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCommandAsk(t *testing.T) {
	req := sampleRequest()
	tests := []struct {
		name     string
		cmd      string
		granted  bool
		caps     []string
		whyStart string
		wantErr  bool
	}{
		{"exit 0", "exit 0", true, req.Capabilities, "", false},
		{"exit 0 blank output", "echo '  '", true, req.Capabilities, "", false},
		{"exit 1", "exit 1", false, nil, "consent command failed: exit status 1", false},
		{"exit 3 after output", "echo shell; exit 3", false, nil, "consent command failed: exit status 3", false},
		{"prints shell", "echo shell", true, []string{"shell"}, "", false},
		{"prints shell,bogus", "echo shell,bogus", true, []string{"shell"}, "", false},
		{"prints list with spaces", "printf 'files , shell\\n'", true, []string{"shell", "files"}, "", false},
		{"prints only bogus", "echo bogus", false, nil, "consent command granted none", false},
		{"crash", "kill -KILL $$", false, nil, "consent command failed: signal: killed", true},
		{"too much output", "i=0; while [ $i -lt 600 ]; do echo shell,shell; i=$((i+1)); done", false, nil, "consent command printed too much", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Command{Cmd: tt.cmd, Timeout: 10 * time.Second}.Ask(context.Background(), req)
			if (err != nil) != tt.wantErr {
				t.Errorf("Ask(%q) error = %v, want error %v", tt.cmd, err, tt.wantErr)
			}
			if d.Granted != tt.granted {
				t.Errorf("Ask(%q).Granted = %v, want %v (Why %q)", tt.cmd, d.Granted, tt.granted, d.Why)
			}
			if !slices.Equal(d.Capabilities, tt.caps) {
				t.Errorf("Ask(%q).Capabilities = %v, want %v", tt.cmd, d.Capabilities, tt.caps)
			}
			if !strings.HasPrefix(d.Why, tt.whyStart) {
				t.Errorf("Ask(%q).Why = %q, want prefix %q", tt.cmd, d.Why, tt.whyStart)
			}
		})
	}
}

func TestCommandNoCmd(t *testing.T) {
	d, err := Command{}.Ask(context.Background(), sampleRequest())
	if !errors.Is(err, ErrNoCommand) || d.Granted {
		t.Errorf("Ask with empty Cmd = %+v, %v; want refused, ErrNoCommand", d, err)
	}
}

func TestCommandMissingShell(t *testing.T) {
	d, err := Command{Shell: "/nonexistent/sh", Cmd: "exit 0"}.Ask(context.Background(), sampleRequest())
	if err == nil || d.Granted {
		t.Errorf("Ask with missing shell = %+v, %v; want refused with error", d, err)
	}
}

func TestCommandContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := Command{Cmd: "exit 0"}.Ask(ctx, sampleRequest())
	if !errors.Is(err, context.Canceled) || d.Granted {
		t.Errorf("Ask with cancelled context = %+v, %v; want refused, context.Canceled", d, err)
	}
}

func TestCommandEnvironment(t *testing.T) {
	out := filepath.Join(t.TempDir(), "env")
	t.Setenv("OUT", out)
	t.Setenv("AGENT_MARK", "inherited")
	req := sampleRequest()
	req.Reason = "line one\nline two"
	req.Recorded = false
	if _, err := (Command{Cmd: `env > "$OUT"`}).Ask(context.Background(), req); err != nil {
		t.Fatalf("Ask: %v", err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = v
		}
	}
	want := map[string]string{
		"TETHER_SESSION_ID":    "s-123",
		"TETHER_TECH":          `Alice<U+202E>evil\nroot (alice)`,
		"TETHER_CAPABILITIES":  "shell,files,clipboard",
		"TETHER_SECURITY_CODE": "1234-5678",
		"TETHER_RECORDED":      "no",
		"TETHER_ORG":           "Acme IT",
		"TETHER_REASON":        `line one\nline two`,
		"TETHER_TECH_VERIFIED": "no",
		"AGENT_MARK":           "inherited",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("command saw %s=%q, want %q", k, env[k], v)
		}
	}
}

func TestEnvironVerified(t *testing.T) {
	for _, tc := range []struct{ verified, want string }{
		{"", "TETHER_TECH_VERIFIED=no"},
		{"Acme IT", "TETHER_TECH_VERIFIED=yes Acme IT"},
		{"Acme\x1b[2J", "TETHER_TECH_VERIFIED=yes Acme"}, // escape sequences removed
	} {
		req := sampleRequest()
		req.Verified = tc.verified
		env := environ(req)
		if !slices.Contains(env, tc.want) {
			t.Errorf("Verified %q: environment %q lacks %q", tc.verified, env, tc.want)
		}
	}
}
