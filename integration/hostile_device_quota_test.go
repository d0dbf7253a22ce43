package integration

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store/pgtest"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/recordings"
)

// quotaDevice is a hostile device: it enrolls with the real agent binary,
// then speaks the protocol itself with the enrolled device key — it
// authenticates, answers session offers and attaches — but sends what the
// agent never would.
type quotaDevice struct {
	t     *testing.T
	e     *env
	key   ed25519.PrivateKey
	id    string
	pin   string
	relay string
	ctl   *transport.Conn
	offer chan *protocol.Control
}

// hostileQuotaDevice enrolls name and connects as it.
func (e *env) hostileQuotaDevice(name string) *quotaDevice {
	t := e.t
	t.Helper()
	d := e.enroll(name)
	var st struct {
		Relay    string `json:"relay"`
		Pin      string `json:"pin"`
		DeviceID string `json:"device_id"`
	}
	if err := json.Unmarshal([]byte(mustRead(t, filepath.Join(d.home, "agent.json"))), &st); err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode([]byte(mustRead(t, filepath.Join(d.home, "device.key"))))
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	h := &quotaDevice{t: t, e: e, key: k.(ed25519.PrivateKey), id: st.DeviceID, pin: st.Pin, relay: st.Relay, offer: make(chan *protocol.Control, 4)}
	h.connect()
	e.waitOnline(name)
	return h
}

func (h *quotaDevice) endpoint() transport.Endpoint {
	return transport.Endpoint{URL: h.relay, Pin: h.pin}
}

// connect opens the control connection, signs the relay's challenge and
// queues the offers it receives.
func (h *quotaDevice) connect() {
	t := h.t
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := transport.Dial(ctx, h.endpoint(), protocol.PathAgentControl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseNow)
	m, err := c.ReadControl(ctx)
	if err != nil || m.Type != protocol.CtlChallenge {
		t.Fatalf("challenge: %v %+v", err, m)
	}
	sig := ed25519.Sign(h.key, protocol.AgentAuthMessage(m.Challenge, h.pin))
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlAuth, Version: protocol.Version, DeviceID: ids.DeviceID(h.id), Signature: sig}); err != nil {
		t.Fatal(err)
	}
	if m, err := c.ReadControl(ctx); err != nil || m.Type != protocol.CtlWelcome {
		t.Fatalf("welcome: %v %+v", err, m)
	}
	h.ctl = c
	go func() {
		for {
			m, err := c.ReadControl(context.Background())
			if err != nil {
				return
			}
			if m.Type == protocol.CtlOffer {
				h.offer <- m
			}
		}
	}()
}

// quotaSession is one session between a raw technician and the hostile
// device; both sides' end reasons are collected.
type quotaSession struct {
	info       protocol.SessionInfo
	tech       *transport.Conn
	dev        *transport.Conn
	techEnd    chan string
	devEnd     chan string
	deviceGone chan struct{}
}

// open starts a session from the admin to the hostile device and attaches
// the device to it.
func (h *quotaDevice) open(name string) *quotaSession {
	t := h.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok := strings.TrimSpace(mustRead(t, filepath.Join(h.e.tech, "token")))
	tc, err := transport.Dial(ctx, transport.Endpoint{URL: h.e.url, Pin: h.e.fp, Token: tok}, protocol.PathTechSession)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tc.CloseNow)
	if err := tc.WriteControl(ctx, &protocol.Control{Type: protocol.CtlRequest, Version: protocol.Version, Device: name, Reason: "quota test"}); err != nil {
		t.Fatal(err)
	}
	var offer *protocol.Control
	select {
	case offer = <-h.offer:
	case <-ctx.Done():
		t.Fatal("no offer reached the device")
	}
	dc, err := transport.Dial(ctx, h.endpoint(), protocol.PathAgentSession)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(dc.CloseNow)
	if err := dc.WriteControl(ctx, &protocol.Control{Type: protocol.CtlAttach, SessionID: offer.Session.ID, AttachToken: offer.AttachToken}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*transport.Conn{tc, dc} {
		if m, err := c.ReadControl(ctx); err != nil || m.Type != protocol.CtlPaired {
			t.Fatalf("pairing: %v %+v", err, m)
		}
	}
	s := &quotaSession{info: *offer.Session, tech: tc, dev: dc, techEnd: make(chan string, 1), devEnd: make(chan string, 1), deviceGone: make(chan struct{})}
	go readEnd(tc, s.techEnd, nil)
	go readEnd(dc, s.devEnd, s.deviceGone)
	return s
}

// readEnd reads c until the relay's end message and sends its reason ("" if
// the connection failed first), then reads on until the connection closes,
// as the real peers do; gone, if not nil, is closed then. The device side
// (gone not nil) closes its connection on the end message, as the agent does
// once its end path has run: the relay waits for that (up to its recording
// grace, 15 s) before it tells the technician.
func readEnd(c *transport.Conn, out chan<- string, gone chan struct{}) {
	if gone != nil {
		defer close(gone)
	}
	sent := false
	defer func() {
		if !sent {
			out <- ""
		}
	}()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		ft, p, err := c.ReadFrame(ctx)
		cancel()
		if err != nil {
			return
		}
		if ft != protocol.FrameControl || sent {
			continue
		}
		if m, err := protocol.ParseControl(p); err == nil && m.Type == protocol.CtlEnd {
			out <- m.Reason
			sent = true
			if gone != nil {
				c.Close("session ended")
			}
		}
	}
}

// frameWriter sends each write as one recording frame, as the agent does.
type frameWriter struct {
	c *transport.Conn
}

func (w frameWriter) Write(p []byte) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.c.WriteFrame(ctx, append([]byte{byte(protocol.FrameRecording)}, p...)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// record sends a real encrypted recording of n bytes of random (so
// incompressible) output for sessionID, stopping early if the relay stops
// reading. With final it sends the final chunk and recording_done.
func (s *quotaSession) record(t *testing.T, sessionID string, n int, final bool) error {
	t.Helper()
	var sid [16]byte
	b, _ := hex.DecodeString(sessionID)
	copy(sid[:], b)
	var rcpts []*recordings.Recipient
	for _, k := range s.info.Recipients {
		r, err := recordings.ParseRecipient(k)
		if err != nil {
			t.Fatal(err)
		}
		rcpts = append(rcpts, r)
	}
	w, err := recordings.NewWriter(frameWriter{s.dev}, sid, time.Now(), rcpts...)
	if err != nil {
		t.Fatal(err)
	}
	cw, err := recordings.NewCastWriter(w, recordings.CastHeader{Version: 2, Width: 80, Height: 24, Timestamp: time.Now().Unix()}, time.Now())
	if err != nil {
		return err
	}
	buf := make([]byte, 32<<10)
	for sent := 0; sent < n; sent += len(buf) {
		rand.Read(buf)
		if err := cw.Output(time.Now(), []byte(hex.EncodeToString(buf[:len(buf)/2]))); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		select {
		case <-s.deviceGone:
			return nil
		default:
		}
	}
	if !final {
		return nil
	}
	if err := cw.Close(); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.dev.WriteControl(ctx, &protocol.Control{Type: protocol.CtlRecordingDone})
}

// end waits for both sides' end reasons.
func (s *quotaSession) end(t *testing.T) (tech, dev string) {
	t.Helper()
	for _, ch := range []chan string{s.techEnd, s.devEnd} {
		select {
		case r := <-ch:
			if ch == s.techEnd {
				tech = r
			} else {
				dev = r
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the session did not end")
		}
	}
	return tech, dev
}

// recordingState returns the state and size the relay lists for id.
func (e *env) recordingState(id string) (string, int64) {
	e.t.Helper()
	r := e.techRun("", "recordings", "list", "--json")
	var rs []struct {
		ID, State string
		Size      int64
	}
	if err := json.Unmarshal([]byte(r.stdout), &rs); err != nil {
		e.t.Fatalf("recordings list --json: %v in %q", err, r.stdout)
	}
	for _, x := range rs {
		if x.ID == id {
			return x.State, x.Size
		}
	}
	return "", 0
}

// TestHostileDeviceRecordingQuota: a device flooding recording frames is
// cut off at the session's or the device's quota; both sides are told why,
// the audit log says so, and what was stored verifies as incomplete, not
// corrupt.
func TestHostileDeviceRecordingQuota(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	cases := []struct {
		name  string
		flags []string
		// before is how much an honest earlier session of the same device
		// records in full; open keeps it running during the flood.
		before int
		open   bool
		flood  int
		quota  int64
		want   string
	}{
		{"session quota", []string{"--recording-quota-session", "1048576"}, 0, false, 8 * mib, 1 * mib, "session recording quota exceeded"},
		{"device quota after a finished session", []string{"--recording-quota-device", "1572864"}, 1 * mib, false, 8 * mib, 1572864, "device recording (24 h) quota exceeded"},
		{"device quota beside a live session", []string{"--recording-quota-device", "1572864"}, 1 * mib, true, 8 * mib, 1572864, "device recording (24 h) quota exceeded"},
		// The same on PostgreSQL: the finished session's bytes come back
		// from the recordings table's usage index.
		{"device quota after a finished session, PostgreSQL", []string{"--recording-quota-device", "1572864", "--store", "postgres"}, 1 * mib, false, 8 * mib, 1572864, "device recording (24 h) quota exceeded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			flags := tc.flags
			if n := len(flags); n > 0 && flags[n-1] == "postgres" {
				flags = append(flags[:n-1:n-1], pgtest.Start(t).NewDB(t))
			}
			e := newEnv(t, flags...)
			h := e.hostileQuotaDevice("flood")
			fileSize := func(id string) int64 {
				fi, err := os.Stat(filepath.Join(e.dir, "data", "recordings", id+".rec"))
				if err != nil {
					return 0
				}
				return fi.Size()
			}
			var used int64
			if tc.before > 0 {
				s := h.open("flood")
				if err := s.record(t, s.info.ID.String(), tc.before, !tc.open); err != nil {
					t.Fatal(err)
				}
				if !tc.open {
					s.dev.WriteControl(context.Background(), &protocol.Control{Type: protocol.CtlEnd, Reason: "done"})
					s.end(t)
					eventually(t, "the honest recording to be complete", 10*time.Second, func() bool {
						st, _ := e.recordingState(s.info.ID.String())
						return st == "complete"
					})
				}
				eventually(t, "the honest recording's bytes to be stored", 10*time.Second, func() bool {
					used = fileSize(s.info.ID.String())
					return used > int64(tc.before)/4
				})
			}
			s := h.open("flood")
			s.record(t, s.info.ID.String(), tc.flood, true)
			tech, dev := s.end(t)
			for side, r := range map[string]string{"technician": tech, "device": dev} {
				if !strings.Contains(r, tc.want) {
					t.Errorf("%s was told %q, want %q", side, r, tc.want)
				}
			}
			var st string
			var size int64
			eventually(t, "the recording to be finalised", 10*time.Second, func() bool {
				st, size = e.recordingState(s.info.ID.String())
				return st != "recording"
			})
			if limit := tc.quota - used; st != "incomplete" || size == 0 || size > limit || size != fileSize(s.info.ID.String()) {
				t.Errorf("recording: state %q, %d bytes (file %d); want incomplete, 1..%d bytes", st, size, fileSize(s.info.ID.String()), limit)
			}
			r := e.techRun("", "recordings", "verify", s.info.ID.String(), "--identity", e.reviewer)
			if r.code == 0 || !strings.Contains(r.stderr, "is incomplete") {
				t.Errorf("verify: code %d, stderr %q; want it reported incomplete", r.code, r.stderr)
			}
			a := e.techRun("", "audit", "export")
			if !strings.Contains(a.stdout, `"session.limit"`) || !strings.Contains(a.stdout, tc.want) {
				t.Errorf("audit has no session.limit entry saying %q", tc.want)
			}
		})
	}
}

// TestHostileDeviceRecordingForAnotherSession: a recording whose header
// names another session is refused at the relay as soon as the header
// arrives.
func TestHostileDeviceRecordingForAnotherSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.hostileQuotaDevice("swap")
	s := h.open("swap")
	other := strings.Repeat("ab", 16)
	s.record(t, other, 256<<10, true)
	tech, dev := s.end(t)
	for side, r := range map[string]string{"technician": tech, "device": dev} {
		if !strings.Contains(r, "names session "+other+", not this one") {
			t.Errorf("%s was told %q, want the header's session refused", side, r)
		}
	}
	eventually(t, "the recording to be finalised", 10*time.Second, func() bool {
		st, _ := e.recordingState(s.info.ID.String())
		return st == "incomplete"
	})
}

// TestHostileDeviceControlLimits: oversized and rapid control messages end
// the session with a clear reason to both sides and an audit entry.
func TestHostileDeviceControlLimits(t *testing.T) {
	t.Parallel()
	file := func(i int) *protocol.Control {
		return &protocol.Control{Type: protocol.CtlFile, Mode: "upload", Name: strings.Repeat("f", 100), Size: int64(i), Hash: strings.Repeat("0", 64)}
	}
	cases := []struct {
		name  string
		flags []string
		send  func(i int) *protocol.Control
		count int
		want  string
		// fromTech sends from the technician's side instead.
		fromTech bool
	}{
		{"oversized file report", []string{"--control-max-size", "4096"},
			func(int) *protocol.Control { c := file(0); c.Name = strings.Repeat("x", 8000); return c }, 1,
			"exceeds the limit of 4096 bytes", false},
		{"oversized past the protocol maximum", nil,
			func(int) *protocol.Control { c := file(0); c.Name = strings.Repeat("x", 20000); return c }, 1,
			"exceeds the limit of 16384 bytes", false},
		{"rapid clipboard reports", []string{"--control-rate", "2", "--control-burst", "5"},
			func(i int) *protocol.Control {
				return &protocol.Control{Type: protocol.CtlClipboard, Mode: "get", Size: int64(i)}
			}, 500, "faster than the limit of 2 per second (burst 5)", false},
		{"rapid unknown messages", []string{"--control-rate", "1", "--control-burst", "10"},
			func(int) *protocol.Control { return &protocol.Control{Type: "made-up"} }, 500,
			"faster than the limit of 1 per second (burst 10)", false},
		{"rapid messages from the technician", []string{"--control-rate", "1", "--control-burst", "10"},
			func(int) *protocol.Control { return &protocol.Control{Type: protocol.CtlFile, Name: "forged"} }, 500,
			"faster than the limit of 1 per second (burst 10)", true},
		{"oversized from the technician", []string{"--control-max-size", "4096"},
			func(int) *protocol.Control {
				return &protocol.Control{Type: "made-up", Reason: strings.Repeat("r", 5000)}
			}, 1,
			"exceeds the limit of 4096 bytes", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, tc.flags...)
			h := e.hostileQuotaDevice("chatty")
			s := h.open("chatty")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			from, who := s.dev, "device"
			if tc.fromTech {
				from, who = s.tech, "technician"
			}
			for i := range tc.count {
				// Encoded here: WriteControl refuses to send an oversized one.
				b, _ := json.Marshal(tc.send(i))
				if from.WriteFrame(ctx, append([]byte{byte(protocol.FrameControl)}, b...)) != nil {
					break
				}
			}
			tech, dev := s.end(t)
			for side, r := range map[string]string{"technician": tech, "device": dev} {
				if !strings.Contains(r, who+" exceeded a limit") || !strings.Contains(r, tc.want) {
					t.Errorf("%s was told %q, want %q", side, r, tc.want)
				}
			}
			a := e.techRun("", "audit", "export")
			if !strings.Contains(a.stdout, `"session.limit"`) {
				t.Error("audit has no session.limit entry")
			}
			if n := strings.Count(a.stdout, `"session.file"`) + strings.Count(a.stdout, `"session.clipboard"`); n > 25 {
				t.Errorf("%d file/clipboard reports reached the audit log; the limit should stop them", n)
			}
		})
	}
}

// TestRecordingVerifyBindsSession: `tech recordings verify ID` checks that
// the file is ID's recording: another session's complete recording put in
// its place (same device or another device) is refused, a truncated one is
// reported incomplete, and only the genuine one verifies.
func TestRecordingVerifyBindsSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a, b := e.hostileQuotaDevice("dev-a"), e.hostileQuotaDevice("dev-b")
	honest := func(h *quotaDevice, name string) string {
		s := h.open(name)
		if err := s.record(t, s.info.ID.String(), 200<<10, true); err != nil {
			t.Fatal(err)
		}
		s.dev.WriteControl(context.Background(), &protocol.Control{Type: protocol.CtlEnd, Reason: "done"})
		s.end(t)
		eventually(t, "a complete recording", 10*time.Second, func() bool {
			st, _ := e.recordingState(s.info.ID.String())
			return st == "complete"
		})
		return s.info.ID.String()
	}
	a1, a2, b1 := honest(a, "dev-a"), honest(a, "dev-a"), honest(b, "dev-b")
	file := func(id string) string { return filepath.Join(e.dir, "data", "recordings", id+".rec") }
	orig := map[string][]byte{}
	for _, id := range []string{a1, a2, b1} {
		orig[id] = []byte(mustRead(t, file(id)))
	}
	cases := []struct {
		name    string
		content []byte
		ok      bool
		want    string
	}{
		{"genuine", orig[a1], true, "verified"},
		{"another session of the same device", orig[a2], false, "not this session's recording"},
		{"another device's session", orig[b1], false, "the header names session " + b1},
		{"truncated", orig[a1][:len(orig[a1])-1000], false, "is incomplete"},
		{"truncated to the header", orig[a1][:1500], false, "incomplete"},
	}
	for _, tc := range cases { // sequential: they share a1's file
		if err := os.WriteFile(file(a1), tc.content, 0o600); err != nil {
			t.Fatal(err)
		}
		r := e.techRun("", "recordings", "verify", a1, "--identity", e.reviewer)
		out := r.stdout + r.stderr
		if (r.code == 0) != tc.ok || !strings.Contains(out, tc.want) {
			t.Errorf("%s: verify exited %d with %q; want ok=%v and %q", tc.name, r.code, out, tc.ok, tc.want)
		}
		if !tc.ok && strings.Contains(out, "verified") {
			t.Errorf("%s: verify said %q", tc.name, out)
		}
		ex := filepath.Join(t.TempDir(), "out.cast")
		if r := e.techRun("", "recordings", "export", a1, "--identity", e.reviewer, "-o", ex); tc.want != "verified" && strings.Contains(tc.want, "session") && r.code == 0 {
			t.Errorf("%s: export accepted another session's recording", tc.name)
		}
	}
}

// TestHostileDeviceConsentReceipts: the relay audits a consent receipt as
// verified only when this session's device key signed it for this
// session; another session's receipt, another key's and a replay are
// audited as such.
func TestHostileDeviceConsentReceipts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h := e.hostileQuotaDevice("signer")
	s := h.open("signer")
	_, otherKey, _ := ed25519.GenerateKey(rand.Reader)
	receipt := func(key ed25519.PrivateKey, session string, rev int) *protocol.Control {
		r := protocol.ConsentReceipt{Session: ids.SessionID(session), Device: ids.DeviceID(h.id), Tech: s.info.TechID, Caps: []string{"shell"}, Granted: true,
			Time: time.Now().UTC(), Revision: rev}
		b, _ := json.Marshal(r)
		return &protocol.Control{Type: protocol.CtlConsent, Granted: true, Caps: r.Caps, Receipt: b, ReceiptSig: ed25519.Sign(key, protocol.ReceiptMessage(b))}
	}
	valid := receipt(h.key, s.info.ID.String(), 0)
	steps := []struct {
		m    *protocol.Control
		want string
	}{
		{valid, "verified"},
		{valid, "replayed (revision 0, expected at least 1)"},
		{receipt(h.key, strings.Repeat("cd", 16), 1), "for another session"},
		{receipt(otherKey, s.info.ID.String(), 1), "bad signature"},
		{receipt(h.key, s.info.ID.String(), 1), "verified"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, st := range steps {
		if err := s.dev.WriteControl(ctx, st.m); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	eventually(t, "every consent audited", 10*time.Second, func() bool {
		got = nil
		for _, l := range lines(e.techRun("", "audit", "export").stdout) {
			var rec struct {
				Action, Target string
				Details        map[string]string
			}
			if json.Unmarshal([]byte(l), &rec) == nil && rec.Action == "session.consent" && rec.Target == s.info.ID.String() {
				got = append(got, rec.Details["receipt_check"])
			}
		}
		return len(got) >= len(steps)
	})
	for i, st := range steps {
		if got[i] != st.want {
			t.Errorf("consent %d: audited receipt_check %q, want %q", i, got[i], st.want)
		}
	}
}

// TestHostileDeviceFileReportFlood: file reports beyond the control rate
// are slowed, not dropped and not fatal (a recursive copy sends one per
// file): the relay reads them no faster than the rate allows, records each
// one, and the session ends only when the device ends it.
func TestHostileDeviceFileReportFlood(t *testing.T) {
	t.Parallel()
	const n, rate, burst = 40, 10, 10
	e := newEnv(t, "--control-rate", "10", "--control-burst", "10")
	h := e.hostileQuotaDevice("copier")
	s := h.open("copier")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range n {
		m := &protocol.Control{Type: protocol.CtlFile, Mode: "upload", Name: fmt.Sprintf("dir/f%03d", i), Size: int64(i), Hash: strings.Repeat("0", 64)}
		if err := s.dev.WriteControl(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.dev.WriteControl(ctx, &protocol.Control{Type: protocol.CtlEnd, Reason: "copy finished"}); err != nil {
		t.Fatal(err)
	}
	tech, dev := s.end(t)
	if tech != "copy finished" || dev != "copy finished" {
		t.Errorf("end reasons %q / %q, want the device's own", tech, dev)
	}
	var times []time.Time
	for _, l := range lines(e.techRun("", "audit", "export").stdout) {
		var rec struct {
			Action, Target string
			Time           time.Time
		}
		if json.Unmarshal([]byte(l), &rec) == nil && rec.Action == "session.file" && rec.Target == s.info.ID.String() {
			times = append(times, rec.Time)
		}
		if strings.Contains(l, `"session.limit"`) {
			t.Errorf("file reports ended the session: %s", l)
		}
	}
	if len(times) != n {
		t.Fatalf("%d file reports audited, want all %d", len(times), n)
	}
	// The relay let the burst through, then one per 1/rate seconds: a
	// lower bound the flood cannot beat, however fast it sends.
	if min := time.Duration(n-burst-1) * time.Second / rate; times[n-1].Sub(times[0]) < min {
		t.Errorf("%d file reports audited within %v; the rate limit allows no less than %v", n, times[n-1].Sub(times[0]), min)
	}
}
