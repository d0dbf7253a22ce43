package integration

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/viewer/browsertest"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// directKnobs are the direct path's test knobs (TETHER_TEST_DIRECT):
// loopback candidates only, short heartbeat, stall and ICE timers.
const directKnobs = "loopback,heartbeat=50ms,stall=1s,disconnected=400ms,failed=1s"

// split is a running process whose stdout and stderr are kept apart.
type split struct {
	cmd            *exec.Cmd
	mu             sync.Mutex
	stdout, stderr bytes.Buffer
	done           chan struct{}
	code           int
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// startSplit runs name with stdin from /dev/null, killed at the test's end.
func startSplit(t *testing.T, dir string, env []string, name string, args ...string) *split {
	t.Helper()
	s := &split{cmd: exec.Command(name, args...), done: make(chan struct{})}
	s.cmd.Dir, s.cmd.Env = dir, append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = lockedWriter{&s.mu, &s.stdout}, lockedWriter{&s.mu, &s.stderr}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.cmd.Wait()
		s.code = s.cmd.ProcessState.ExitCode()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-s.done
		}
		if t.Failed() {
			t.Logf("stderr of %s:\n%s", filepath.Base(name), s.errOut())
		}
	})
	return s
}

func (s *split) out() string    { s.mu.Lock(); defer s.mu.Unlock(); return s.stdout.String() }
func (s *split) errOut() string { s.mu.Lock(); defer s.mu.Unlock(); return s.stderr.String() }

// wait waits for the process to exit and returns its status.
func (s *split) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-s.done:
		return s.code
	case <-time.After(limit):
		t.Fatalf("still running after %v; stderr:\n%s", limit, s.errOut())
		return -1
	}
}

// touch creates an empty file.
func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// pathEvents returns the session.path audit events as "from>to", in
// order, and the same per session.
func (e *env) pathEvents() ([]string, map[string][]string) {
	recs, _ := e.auditLog()
	var out []string
	per := map[string][]string{}
	for _, r := range recs {
		if r.Action == "session.path" {
			ev := r.Details["from"] + ">" + r.Details["to"]
			out = append(out, ev)
			per[r.Target] = append(per[r.Target], ev)
		}
	}
	return out, per
}

// TestDirectPathMoveCarryFallback: a session comes up on the relay path
// and moves to a direct path on loopback (tech's stderr, the agent's
// terminal, the audit log and `tech sessions show` say so); it carries an
// interactive PTY shell and a file copy; then, while a counter streams
// through a PTY, the agent's UDP sockets are closed (test knob): the
// session falls back to the relay by itself, and the counter arrives with
// no line lost or repeated.
// lanRTT is the why of a direct path on loopback: "direct (LAN, 0.4 ms)".
var lanRTT = regexp.MustCompile(`direct \(LAN, [0-9.]+ ms\)`)

func TestDirectPathMoveCarryFallback(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	cut := filepath.Join(e.dir, "cut-direct")
	d.env = []string{"TETHER_TEST_DIRECT=" + directKnobs + ",cut=" + cut}
	e.runAgent(d, "exit 0")
	techEnv := []string{"TETHER_TEST_DIRECT=" + directKnobs}

	// An interactive shell over the direct path.
	p := startPTYEnv(t, e.dir, techEnv, bin.tech, "--config", e.tech, "connect", d.name)
	// The why is the route kind and ICE's measured round trip.
	p.expect("Session path: direct (LAN, ", 20*time.Second)
	p.send("echo typed-$((20+22))\r")
	p.expect("typed-42", 10*time.Second)
	if !logs(d.proc.Output, "session path: direct (LAN, ") {
		t.Errorf("the agent's terminal does not show the direct path:\n%s", d.proc.Output())
	}
	r := e.techRun("", "sessions", "list", "--active", "--json")
	id := regexp.MustCompile(`"id":"([0-9a-f]{32})"`).FindStringSubmatch(r.stdout)
	if id == nil {
		t.Fatalf("no active session: %s", r.stdout)
	}
	eventually(t, "sessions show to say direct", 10*time.Second, func() bool {
		return lanRTT.MatchString(e.techRun("", "sessions", "show", id[1]).stdout)
	})
	p.send("exit 0\r")
	if code := p.exitCode(10 * time.Second); code != 0 {
		t.Fatalf("tech exited %d", code)
	}

	// A file copy over the direct path.
	src := filepath.Join(e.dir, "payload.bin")
	payload := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16*10) // 2 MiB
	os.WriteFile(src, payload, 0o600)
	cp := startSplit(t, e.dir, techEnv, bin.tech, "--config", e.tech, "cp", "--path", "direct", src, d.name+":payload.bin")
	if code := cp.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("cp --path direct exited %d", code)
	}
	if !strings.Contains(cp.errOut(), "Session path: direct") {
		t.Errorf("cp did not use the direct path:\n%s", cp.errOut())
	}
	if got, _ := os.ReadFile(filepath.Join(d.userHome, "payload.bin")); !bytes.Equal(got, payload) {
		t.Fatalf("copied file differs (%d bytes, want %d)", len(got), len(payload))
	}

	// A counter through a PTY; the direct path is cut mid-stream.
	goFile, resume := filepath.Join(e.dir, "go"), filepath.Join(e.dir, "resume")
	const n, pause = 3000, 1500
	script := fmt.Sprintf(`while [ ! -e %s ]; do sleep 0.05; done; i=0; while [ $i -lt %d ]; do echo c$i; i=$((i+1)); `+
		`if [ $i = %d ]; then while [ ! -e %s ]; do sleep 0.05; done; fi; done; echo END`, goFile, n, pause, resume)
	tc := startSplit(t, e.dir, techEnv, bin.tech, "--config", e.tech, "connect", "-t", d.name, "--", "sh", "-c", script)
	eventually(t, "the direct path", 20*time.Second, func() bool { return strings.Contains(tc.errOut(), "Session path: direct") })
	touch(t, goFile)
	eventually(t, "the counter to start", 20*time.Second, func() bool { return strings.Contains(tc.out(), "c200\r\n") })
	touch(t, cut)
	eventually(t, "the fallback", 20*time.Second, func() bool { return strings.Contains(tc.errOut(), "Session path: relay") })
	touch(t, resume)
	if code := tc.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("tech connect exited %d", code)
	}
	checkCounter(t, tc.out(), n)
	eventually(t, "the agent's terminal to show the fallback", 10*time.Second, func() bool {
		return strings.Count(d.proc.Output(), "session path: relay") >= 1
	})
	// Each session moved to the direct path first; the last one fell
	// back at the cut. (On a loaded machine an earlier session may also
	// have fallen back by itself: that is allowed, not asserted.)
	var got []string
	var per map[string][]string
	eventually(t, "session.path audit events", 10*time.Second, func() bool {
		got, per = e.pathEvents()
		return len(per) == 3 && got[len(got)-1] == "direct>relay"
	})
	for id, evs := range per {
		if evs[0] != "relay>direct" {
			t.Errorf("session %s: path events %q, want relay>direct first", id, evs)
		}
	}
	eventually(t, "screen locks", 10*time.Second, func() bool { return d.locks() == 3 })
}

// checkCounter requires out to hold the lines c0 … c(n-1), each once and
// in order, then END.
func checkCounter(t *testing.T, out string, n int) {
	t.Helper()
	var nums []int
	for _, l := range strings.Split(strings.ReplaceAll(out, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(l, "c") {
			v, err := strconv.Atoi(l[1:])
			if err != nil {
				t.Fatalf("garbled counter line %q", l)
			}
			nums = append(nums, v)
		}
	}
	for i, v := range nums {
		if v != i {
			t.Fatalf("counter line %d is c%d: a line was lost or repeated", i, v)
		}
	}
	if len(nums) != n || !strings.Contains(out, "END") {
		t.Fatalf("%d counter lines (want %d), END seen: %v", len(nums), n, strings.Contains(out, "END"))
	}
}

// udpSockets counts the UDP sockets pid holds: the socket inodes among its
// /proc/PID/fd links that /proc/PID/net/udp or udp6 lists.
func udpSockets(t *testing.T, pid int) int {
	t.Helper()
	inodes := map[string]bool{}
	for _, f := range []string{"udp", "udp6"} {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, f))
		for _, l := range strings.Split(string(b), "\n")[1:] {
			if fs := strings.Fields(l); len(fs) > 9 {
				inodes[fs[9]] = true
			}
		}
	}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatalf("read /proc/%d/fd: %v", pid, err)
	}
	n := 0
	for _, fd := range fds {
		l, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if ino, ok := strings.CutPrefix(l, "socket:["); ok && inodes[strings.TrimSuffix(ino, "]")] {
			n++
		}
	}
	return n
}

// TestDirectPathDenyOpensNoUDP: with the organisation's policy direct_path
// deny, neither the agent nor tech opens any UDP socket during a session
// (checked in /proc/PID/fd against /proc/PID/net/udp{,6}), both say the
// session stays on the relay and why; with allow, the same check finds
// the direct path's sockets, so it can fail.
func TestDirectPathDenyOpensNoUDP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	d.env = []string{"TETHER_TEST_DIRECT=" + directKnobs}
	e.runAgent(d, "exit 0")
	techEnv := []string{"TETHER_TEST_DIRECT=" + directKnobs}
	for _, policy := range []string{"allow", "deny"} {
		t.Run(policy, func(t *testing.T) {
			if r := e.techRun("", "policy", "set", "--direct-path", policy); r.code != 0 {
				t.Fatalf("policy set: %s", r.stderr)
			}
			release := filepath.Join(e.dir, "release-"+policy)
			tc := startSplit(t, e.dir, techEnv, bin.tech, "--config", e.tech, "connect", d.name, "--",
				"sh", "-c", fmt.Sprintf("echo running; while [ ! -e %s ]; do sleep 0.05; done", release))
			eventually(t, "the session path", 20*time.Second, func() bool { return strings.Contains(tc.errOut(), "Session path: ") })
			agentUDP, techUDP := udpSockets(t, d.proc.cmd.Process.Pid), udpSockets(t, tc.cmd.Process.Pid)
			touch(t, release)
			if code := tc.wait(t, 30*time.Second); code != 0 {
				t.Fatalf("tech connect exited %d", code)
			}
			if policy == "deny" {
				if agentUDP != 0 || techUDP != 0 {
					t.Errorf("direct_path deny: agent holds %d UDP sockets, tech %d; want none", agentUDP, techUDP)
				}
				if !strings.Contains(tc.errOut(), "Session path: relay (the organisation's policy denies it)") {
					t.Errorf("tech does not say why the session stays on the relay:\n%s", tc.errOut())
				}
				return
			}
			if agentUDP == 0 || techUDP == 0 {
				t.Errorf("direct_path allow: agent holds %d UDP sockets, tech %d; the check cannot see them", agentUDP, techUDP)
			}
		})
	}
	if r := e.techRun("", "policy", "show"); !strings.Contains(r.stdout, "direct-path") || !strings.Contains(r.stdout, "deny") {
		t.Errorf("policy show does not list direct-path deny:\n%s", r.stdout)
	}
}

// TestDirectPathRelayTamper: a relay that alters the technician's sealed
// direct-path offer in transit only breaks the session (the agent refuses
// the frame as unauthentic, and locks as on every end); no direct path is
// ever set up.
func TestDirectPathRelayTamper(t *testing.T) {
	t.Parallel()
	base := &env{t: t, dir: t.TempDir()}
	base.relayBin, base.relayEnv = hostileRelayBin(t), []string{"TETHER_HOSTILE_TAMPER=tech:300"}
	e := newEnvFrom(t, base)
	d := e.enroll("dev")
	d.env = []string{"TETHER_TEST_DIRECT=" + directKnobs}
	e.runAgent(d, "exit 0")
	tc := startSplit(t, e.dir, []string{"TETHER_TEST_DIRECT=" + directKnobs}, bin.tech, "--config", e.tech,
		"connect", d.name, "--", "sh", "-c", "sleep 30")
	if code := tc.wait(t, 30*time.Second); code == 0 {
		t.Fatal("the session with a tampered offer went on")
	}
	const want = "protocol error: a message failed end-to-end authentication"
	if !strings.Contains(tc.errOut(), want) {
		t.Errorf("tech does not report the tampering (%q):\n%s", want, tc.errOut())
	}
	if strings.Contains(tc.errOut(), "Session path: direct") {
		t.Error("a direct path was set up through a tampering relay")
	}
	eventually(t, "screen lock", 10*time.Second, func() bool { return d.locks() == 1 })
	all, _ := e.pathEvents()
	for _, ev := range all {
		if strings.HasSuffix(ev, ">direct") {
			t.Errorf("audit log shows a move to the direct path: %q", ev)
		}
	}
}

// rawDirectSession opens a session as a raw technician that announces the
// direct-path feature (and not tech-cert), with direct-path mode on; its
// signalling messages reach signal.
func (e *env) rawDirectSession(t *testing.T, device string, signal func(protocol.InnerType, []byte)) *transport.Channel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	tok := strings.TrimSpace(mustRead(t, filepath.Join(e.tech, "token")))
	c, err := transport.Dial(ctx, transport.Endpoint{URL: e.url, Pin: e.fp, Token: tok}, protocol.PathTechSession)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseNow)
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlRequest, Version: protocol.Version, Device: device, Caps: []string{"shell"}}); err != nil {
		t.Fatal(err)
	}
	m, err := c.ReadControl(ctx)
	if err != nil || m.Type != protocol.CtlPaired {
		t.Fatalf("pairing: %v %+v", err, m)
	}
	var p e2e.Params
	id, _ := hex.DecodeString(m.Session.ID.String())
	copy(p.SessionID[:], id)
	p.TechID, p.TechUser, p.DeviceKey = m.Session.TechID, m.Session.TechUser, m.Session.DeviceKey
	ch, err := transport.InitiateWith(ctx, c, p, protocol.MustFeatures(protocol.FeatureDirectPath, protocol.FeaturePathSwitch))
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.EnableDirect(ctx, transport.DirectConfig{Signal: signal}); err != nil {
		t.Fatal(err)
	}
	if typ, payload, err := ch.Recv(ctx); err != nil || typ != protocol.InConsent || !strings.Contains(string(payload), `"granted":true`) {
		t.Fatalf("consent: %v %v %s", err, typ, payload)
	}
	return ch
}

// TestDirectPathHostileSignalling: a hostile technician sends the agent
// malformed SDP, an oversized offer, a flood of candidates and an unknown
// state; each time the agent refuses the direct attempt with a clear
// reason and the session goes on over the relay (a command still runs).
func TestDirectPathHostileSignalling(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	d.env = []string{"TETHER_TEST_DIRECT=" + directKnobs}
	e.runAgent(d, "exit 0")
	offer := func(sdp string) []byte {
		m, _ := protocol.AppendJSON(nil, protocol.InDirectOffer, protocol.DirectSignal{SDP: sdp,
			Fingerprint: "sha-256 " + strings.TrimSuffix(strings.Repeat("AB:", 32), ":")})
		return m
	}
	flood := [][]byte{offer("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n" +
		"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=ice-ufrag:abcd\r\n" +
		"a=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 " + strings.TrimSuffix(strings.Repeat("AB:", 32), ":") +
		"\r\na=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n")}
	for i := range protocol.MaxDirectCandidates + 1 {
		c, _ := protocol.AppendJSON(nil, protocol.InDirectCandidate, protocol.DirectCandidate{
			Candidate: fmt.Sprintf("candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host", i, 20000+i)})
		flood = append(flood, c)
	}
	cases := []struct {
		name string
		msgs [][]byte
		want string
	}{
		{"malformed sdp", [][]byte{offer("v=0\r\nm=nonsense\r\n")}, "unusable offer"},
		{"oversized offer", [][]byte{offer("v=0" + strings.Repeat("a", protocol.MaxDirectSDP))}, "malformed offer"},
		{"candidate flood", flood, "too many ICE candidates"},
		{"unknown state", [][]byte{[]byte("\x23{\"state\":\"take-over\"}")}, "unknown direct-path state"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			states := make(chan protocol.DirectState, 8)
			ch := e.rawDirectSession(t, d.name, func(typ protocol.InnerType, p []byte) {
				if st, err := protocol.ParseDirectState(p); typ == protocol.InDirectState && err == nil {
					states <- st
				}
			})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, m := range tc.msgs {
				if err := ch.SendMsg(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			if err := ch.SendJSON(ctx, protocol.InStart, protocol.Start{Argv: []string{"echo still-on-the-relay"}}); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			for !strings.Contains(out.String(), "still-on-the-relay") {
				typ, p, err := ch.Recv(ctx)
				if err != nil {
					t.Fatalf("the session did not survive: %v", err)
				}
				if typ == protocol.InStdout {
					out.Write(p)
				}
			}
			select {
			case st := <-states:
				if st.State != protocol.DirectFailed || !strings.Contains(st.Why, tc.want) {
					t.Errorf("agent said %+v, want failed with %q", st, tc.want)
				}
			case <-ctx.Done():
				t.Fatal("the agent never said why it refused the direct path")
			}
			if ch.Path() != transport.PathRelay {
				t.Errorf("path %s, want relay", ch.Path())
			}
		})
	}
}

// TestViewDirectPath: `tech view` with --path direct (nothing starts
// before the move) and --path auto (the desktop streams on the relay
// first, and the first update waits for a page) against an agent on Xvfb
// moves the desktop session to the direct path before any page is
// attached (tech's stderr, the agent's terminal); then the page in
// headless Chromium draws the screen through it and shows the path.
func TestViewDirectPath(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"direct", "auto"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			viewDirectPath(t, mode)
		})
	}
}

func viewDirectPath(t *testing.T, mode string) {
	browsertest.Program(t)
	x := x11test.StartXvfb(t, 320, 240)
	win := x11test.NewWindow(t, x, screen.Rect{X: 16, Y: 16, W: 96, H: 96})
	win.Pattern(3, 16)
	win.Sync()
	e := newEnv(t)
	d := e.desktopAgent("desk-direct", x, "exit 0", "TETHER_TEST_DIRECT="+directKnobs)
	techKnobs := directKnobs
	if mode == "auto" {
		techKnobs += ",start=1500ms" // the first update is waiting for a page by then
	}
	v := e.startViewEnv(t, []string{"TETHER_TEST_DIRECT=" + techKnobs}, d.name, "--no-browser", "--path", mode)
	url := v.url(t)
	// No page yet: the first update waits to be drawn, and the move must
	// not wait for it (tech reads the session whatever the page does).
	eventually(t, "the direct path with no page attached", 30*time.Second, func() bool {
		return strings.Contains(v.stderr.Output(), "Session path: direct")
	})
	b := browsertest.Start(t, 640, 480)
	b.Navigate(url)
	b.WaitTrue(`window.tetherViewer && tetherViewer.updates > 0`, 30*time.Second)
	// A screen change after the move is drawn: updates travel the direct path.
	var n int
	if err := b.Eval(`tetherViewer.updates`, &n); err != nil {
		t.Fatal(err)
	}
	win.Pattern(5, 8)
	win.Sync()
	b.WaitTrue(fmt.Sprintf(`tetherViewer.updates > %d`, n), 30*time.Second)
	if !logs(d.proc.Output, "session path: direct") {
		t.Errorf("the agent's terminal does not show the direct path:\n%s", d.proc.Output())
	}
	// The page's status bar says so too.
	b.WaitTrue(`/^direct \(LAN, [0-9.]+ ms\)$/.test(document.getElementById('path').textContent)`, 10*time.Second)
	if strings.Contains(v.stderr.Output(), "Session path: relay") {
		t.Errorf("the view fell back to the relay:\n%s", v.stderr.Output())
	}
}
