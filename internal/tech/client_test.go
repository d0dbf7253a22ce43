package tech_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/agent"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/tech"
)

// TestHeadlessClient drives one in-process relay and agent through the
// client library alone: no terminal, no printing.
func TestHeadlessClient(t *testing.T) {
	b := newTestbed(t)
	for _, tt := range []struct {
		name string
		run  func(*testing.T, *testbed)
	}{
		{"session", headlessSession},
		{"verify and PTY", headlessVerifyAndPTY},
		{"verify mismatch", headlessVerifyMismatch},
		{"attended", headlessAttended},
		{"copy", headlessCopy},
		{"clipboard", headlessClipboard},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, b) })
	}
}

// headlessSession opens a session against an in-process relay and
// agent without any terminal: the security code is known before consent,
// the consent comes as an event, input goes in through an io.Reader,
// output comes out through io.Writers and the exit status as an
// *ExitError and an Exited event.
func headlessSession(t *testing.T, b *testbed) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rec recorder
	c := b.client(&rec)

	s, err := c.Dial(ctx, tech.SessionRequest{Device: b.device, Caps: []string{protocol.CapShell}, Reason: "ticket 7"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code := s.SecurityCode()
	if code == "" || strings.Trim(code, "0123456789- ") != "" {
		t.Fatalf("security code %q, want digits", code)
	}
	if !s.Features().Has(protocol.FeaturePathSwitch) {
		t.Errorf("negotiated features %v, want %s among them", s.Features(), protocol.FeaturePathSwitch)
	}
	if s.Granted() != nil {
		t.Fatalf("granted %v before consent", s.Granted())
	}
	if err := s.AwaitConsent(ctx); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.Granted(), []string{protocol.CapShell}) {
		t.Fatalf("granted %v, want [shell]", s.Granted())
	}

	var stdout, stderr bytes.Buffer
	err = s.Run(ctx, tech.RunOptions{
		Argv:  []string{"read x; echo \"got $x\"; echo oops >&2; exit 3"},
		Stdin: strings.NewReader("hello\n"), Stdout: &stdout, Stderr: &stderr,
	})
	var ee *tech.ExitError
	if !errors.As(err, &ee) || ee.Code != 3 {
		t.Fatalf("Run: %v, want exit status 3", err)
	}
	if stdout.String() != "got hello\n" || stderr.String() != "oops\n" {
		t.Errorf("stdout %q, stderr %q; want %q and %q", stdout.String(), stderr.String(), "got hello\n", "oops\n")
	}

	evs := rec.all()
	opened, _ := find[tech.SessionOpened](evs)
	if opened.ID != s.ID() || opened.DeviceName != b.device || opened.Mode != "unattended" {
		t.Errorf("SessionOpened %+v, want session %s with %s, unattended", opened, s.ID(), b.device)
	}
	if sc, _ := find[tech.SecurityCode](evs); sc.Code != code || sc.SessionID != s.ID() || sc.DeviceName != b.device {
		t.Errorf("SecurityCode %+v, want %s for session %s with %s", sc, code, s.ID(), b.device)
	}
	if ca, _ := find[tech.ConsentAnswered](evs); !ca.Granted || !slices.Equal(ca.Caps, []string{protocol.CapShell}) {
		t.Errorf("ConsentAnswered %+v, want granted [shell]", ca)
	}
	if sl, ok := find[tech.ScreenLockReport](evs); !ok || !sl.Locked || sl.Malformed {
		t.Errorf("ScreenLockReport %+v (seen %v), want locked", sl, ok)
	}
	last, ok := evs[len(evs)-1].(tech.Exited)
	if !ok || last.Code != 3 || last.Lost {
		t.Errorf("last event %#v, want Exited with code 3", evs[len(evs)-1])
	}
	order := []string{}
	for _, e := range evs {
		switch e.(type) {
		case tech.SessionOpened:
			order = append(order, "opened")
		case tech.SecurityCode:
			order = append(order, "code")
		case tech.ConsentAnswered:
			order = append(order, "consent")
		case tech.Exited:
			order = append(order, "exited")
		}
	}
	if want := []string{"opened", "code", "consent", "exited"}; !slices.Equal(order, want) {
		t.Errorf("events in order %v, want %v", order, want)
	}
}

// headlessVerifyAndPTY confirms the security code as a person would type
// it, then runs a command in a PTY whose size follows RunOptions.Resize.
func headlessVerifyAndPTY(t *testing.T, b *testbed) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := b.client(nil)
	s, err := c.Open(ctx, tech.SessionRequest{Device: b.device, Caps: []string{protocol.CapShell}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Verify(ctx, " "+strings.ReplaceAll(s.SecurityCode(), "-", " ")+"\n"); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	resize := make(chan tech.WindowSize, 1)
	resize <- tech.WindowSize{Cols: 100, Rows: 30}
	var out bytes.Buffer
	err = s.Run(ctx, tech.RunOptions{
		Argv: []string{`for i in $(seq 100); do [ "$(stty size)" = "30 100" ] && break; sleep 0.05; done; echo "size $(stty size)"`},
		PTY:  true, Term: "dumb", Size: tech.WindowSize{Cols: 80, Rows: 24}, Stdout: &out, Resize: resize,
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.Contains(out.String(), "size 30 100") {
		t.Errorf("PTY output %q, want the size after the resize (30 100)", out.String())
	}
}

// headlessVerifyMismatch: a wrong security code ends the session.
func headlessVerifyMismatch(t *testing.T, b *testbed) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := b.client(nil)
	s, err := c.Open(ctx, tech.SessionRequest{Device: b.device, Caps: []string{protocol.CapShell}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	wrong := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return '0' + (r-'0'+1)%10
		}
		return r
	}, s.SecurityCode())
	if err := s.Verify(ctx, wrong); !errors.Is(err, tech.ErrCodeMismatch) {
		t.Fatalf("Verify(%q): %v, want ErrCodeMismatch", wrong, err)
	}
	if err := s.Run(ctx, tech.RunOptions{Argv: []string{"true"}}); err == nil {
		t.Fatal("the session still runs a command after a code mismatch")
	}
}

// headlessAttended asks for an attended session: the join code comes as
// an event, an end user joins with it (agent.Join, in this process), and
// the session runs like any other.
func headlessAttended(t *testing.T, b *testbed) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := b.agentCfg
	cfg.Home = t.TempDir()
	joined := make(chan error, 1)
	var codes []tech.JoinCode
	c := b.client(tech.ObserverFunc(func(e tech.Event) {
		if jc, ok := e.(tech.JoinCode); ok {
			codes = append(codes, jc)
			go func() {
				_, err := agent.Join(ctx, cfg, agent.JoinOptions{Code: jc.Code, Relay: jc.Relay, Pin: jc.Pin})
				joined <- err
			}()
		}
	}))
	s, err := c.Open(ctx, tech.SessionRequest{Attended: true, Caps: []string{protocol.CapShell}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(codes) != 1 || codes[0].Code == "" || codes[0].Relay != b.url || codes[0].Pin == "" {
		t.Fatalf("JoinCode events %+v, want one with the code, relay %s and its pin", codes, b.url)
	}
	var out bytes.Buffer
	if err := s.Run(ctx, tech.RunOptions{Argv: []string{"echo attended"}, Stdout: &out}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if out.String() != "attended\n" {
		t.Errorf("output %q, want %q", out.String(), "attended\n")
	}
	if err := <-joined; err != nil {
		t.Errorf("agent join: %v", err)
	}
}

// headlessCopy uploads a file and downloads it again through Copy,
// with progress and the verified files reported as events.
func headlessCopy(t *testing.T, b *testbed) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rec recorder
	c := b.client(&rec)
	local := t.TempDir()
	data := bytes.Repeat([]byte("tether "), 40000) // 280 000 bytes: several chunks
	src := filepath.Join(local, "notes.txt")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}

	if err := c.Copy(ctx, tech.CopyOptions{Src: src, Dst: b.device + ":"}); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if got, err := os.ReadFile(filepath.Join(b.userHome, "notes.txt")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the device holds %d bytes (%v), want %d", len(got), err, len(data))
	}
	up, ok := find[tech.FileCopied](rec.all())
	if !ok || !up.Upload || up.Local != src || up.Remote == "" || up.Size != int64(len(data)) || up.DeviceName != b.device || len(up.SHA256) != 64 {
		t.Errorf("upload FileCopied %+v", up)
	}
	checkProgress(t, rec.all(), "notes.txt", int64(len(data)))

	rec = recorder{}
	dst := filepath.Join(local, "back.txt")
	if err := c.Copy(ctx, tech.CopyOptions{Src: b.device + ":notes.txt", Dst: dst}); err != nil {
		t.Fatalf("download: %v", err)
	}
	if got, err := os.ReadFile(dst); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes (%v), want %d", len(got), err, len(data))
	}
	down, ok := find[tech.FileCopied](rec.all())
	if !ok || down.Upload || down.Local != dst || down.Size != int64(len(data)) || down.SHA256 != up.SHA256 {
		t.Errorf("download FileCopied %+v, want %s with the upload's SHA-256", down, dst)
	}
	checkProgress(t, rec.all(), "back.txt", int64(len(data)))
}

// headlessClipboard sets the device's clipboard and reads it back.
func headlessClipboard(t *testing.T, b *testbed) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := b.client(nil)
	o := tech.ClipboardOptions{Device: b.device, Reason: "ticket 7"}
	if err := c.ClipboardSet(ctx, o, make([]byte, protocol.MaxClipboard+1)); err == nil {
		t.Fatal("ClipboardSet took text over the limit")
	}
	text := []byte("ticket 4711 \x1b[2J as sent")
	if err := c.ClipboardSet(ctx, o, text); err != nil {
		t.Fatal(err)
	}
	got, err := c.ClipboardGet(ctx, o)
	if err != nil || !bytes.Equal(got, text) {
		t.Fatalf("ClipboardGet = %q, %v; want %q (unfiltered: filtering is the presenter's)", got, err, text)
	}
}

// checkProgress checks a file's Progress events: from 0 up to size, in
// order, for name.
func checkProgress(t *testing.T, evs []tech.Event, name string, size int64) {
	t.Helper()
	var done []int64
	for _, e := range evs {
		if p, ok := e.(tech.Progress); ok {
			if p.Name != name || p.Size != size {
				t.Errorf("Progress %+v, want %s of %d bytes", p, name, size)
			}
			done = append(done, p.Done)
		}
	}
	if len(done) < 3 || done[0] != 0 || done[len(done)-1] != size || !slices.IsSorted(done) {
		t.Errorf("progress of %s: %v, want 0 … %d in order", name, done, size)
	}
}

// find returns the first event of type E.
func find[E tech.Event](evs []tech.Event) (E, bool) {
	for _, e := range evs {
		if v, ok := e.(E); ok {
			return v, true
		}
	}
	var zero E
	return zero, false
}
