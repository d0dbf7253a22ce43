package integration

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// rawDevice signs in on the agent control connection as the enrolled
// device d, with its own key, the way `agent run` does; the test then
// sends what the agent never would.
func (e *env) rawDevice(t *testing.T, d *device) *transport.Conn {
	t.Helper()
	c, _, _ := e.rawDeviceKey(t, d)
	return c
}

// rawDeviceKey is rawDevice, also returning the device key and how to
// reach the relay.
func (e *env) rawDeviceKey(t *testing.T, d *device) (*transport.Conn, ed25519.PrivateKey, transport.Endpoint) {
	t.Helper()
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
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := transport.Dial(ctx, transport.Endpoint{URL: st.Relay, Pin: st.Pin}, protocol.PathAgentControl)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseNow)
	m, err := c.ReadControl(ctx)
	if err != nil || m.Type != protocol.CtlChallenge {
		t.Fatalf("challenge: %v %+v", err, m)
	}
	sig := ed25519.Sign(k.(ed25519.PrivateKey), protocol.AgentAuthMessage(m.Challenge, st.Pin))
	if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlAuth, Version: protocol.Version, DeviceID: ids.DeviceID(st.DeviceID), Signature: sig}); err != nil {
		t.Fatal(err)
	}
	if m, err := c.ReadControl(ctx); err != nil || m.Type != protocol.CtlWelcome {
		t.Fatalf("welcome: %v %+v", err, m)
	}
	return c, k.(ed25519.PrivateKey), transport.Endpoint{URL: st.Relay, Pin: st.Pin}
}

// sessionOf runs one real session on d (its agent started with a lock
// command that works) and returns its ID.
func (e *env) sessionOf(t *testing.T, d *device) string {
	t.Helper()
	e.runAgent(d, "exit 0")
	if r := e.techRun("", "connect", d.name, "--", "true"); r.code != 0 {
		t.Fatalf("session on %s: %s", d.name, r.stderr)
	}
	var id string
	eventually(t, "the session's lock audit", 10*time.Second, func() bool {
		for _, a := range e.lockAudited("session.screen_lock") {
			if a.Details["device"] == d.name {
				id = a.Target
			}
		}
		return id != ""
	})
	return id
}

// TestForgedLockReportsOnControlConnection has an enrolled device report
// lock results it has no business reporting, on its control connection:
// for another device's session, for sessions that do not exist, with IDs
// built to hurt, with a made-up outcome, and in a flood. Only its own
// session's reports are audited, a made-up outcome counts as "failed",
// and no more than 16 are recorded per connection.
func TestForgedLockReportsOnControlConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	mine, other := e.enroll("dev"), e.enroll("other")
	otherSession := e.sessionOf(t, other)
	mySession := e.sessionOf(t, mine)
	mine.proc.kill9()
	before := len(e.lockAudited("session.screen_lock"))
	c := e.rawDevice(t, mine)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	dropped := []struct{ name, session string }{
		{"another device's session", otherSession},
		{"no such session", strings.Repeat("ab", 16)},
		{"empty session ID", ""},
		{"path in the session ID", "../../" + mySession},
		{"oversized session ID", strings.Repeat("f", 8000)},
		{"session ID with a NUL", mySession + "\x00"},
	}
	for _, v := range dropped {
		err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlScreenLock, SessionID: ids.SessionID(v.session),
			Mode: protocol.ScreenLocked, Reason: "forged: " + v.name})
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
	}
	send := func(mode, reason string) {
		if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlScreenLock, SessionID: ids.SessionID(mySession), Mode: mode, Reason: reason}); err != nil {
			t.Fatal(err)
		}
	}
	send("locked-ish\x1b[2J", "made-up outcome")
	for i := range 40 {
		send(protocol.ScreenLocked, fmt.Sprintf("flood %d", i))
	}

	// 6 dropped + 1 made-up + 9 of the flood reach the cap of 16.
	var got []lockAuditEntry
	eventually(t, "the reports within the cap to be audited", 10*time.Second, func() bool {
		got = e.lockAudited("session.screen_lock")[before:]
		return len(got) >= 10
	})
	time.Sleep(300 * time.Millisecond) // let anything over the cap arrive, if it were to
	got = e.lockAudited("session.screen_lock")[before:]
	if len(got) != 10 {
		t.Errorf("%d lock reports audited from one connection, want 10 (16 read, 6 of them dropped)", len(got))
	}
	for _, a := range got {
		if a.Target != mySession {
			t.Errorf("audited a report for session %q, not the device's own", a.Target)
		}
		if strings.HasPrefix(a.Details["result"], "forged") {
			t.Errorf("a forged report was audited: %+v", a)
		}
	}
	if len(got) > 0 && (got[0].Details["result"] != "made-up outcome" || got[0].Outcome != "failed") {
		t.Errorf("made-up outcome audited as %q (%+v), want failed", got[0].Outcome, got[0])
	}
	// The device is still served: the relay did not drop it for this.
	if r := e.techRun("", "devices", "list", "--json"); !strings.Contains(r.stdout, `"name":"dev","group":"default","online":true`) {
		t.Errorf("device went offline after its reports: %s", r.stdout)
	}
}

// TestTechnicianCannotSendLockResult has a technician send the agent the
// lock result message, which only the agent sends: the agent ends the
// session as a protocol error — and locks the screen.
func TestTechnicianCannotSendLockResult(t *testing.T) {
	t.Parallel()
	payloads := []struct {
		name string
		p    []byte
	}{
		{"claims locked", []byte(`{"locked":true,"method":"none"}`)},
		{"malformed", []byte(`{"locked":`)},
		{"empty", nil},
	}
	for _, tc := range payloads {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			d := e.enroll("dev")
			e.runAgent(d, "exit 0")
			ch := e.rawSession(t, e.tech, d.name, "shell")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := ch.Send(ctx, protocol.InScreenLock, tc.p); err != nil {
				t.Fatal(err)
			}
			var lock protocol.ScreenLock
			var end *transport.EndError
			for {
				typ, p, err := ch.Recv(ctx)
				if errors.As(err, &end) {
					break
				}
				if err != nil {
					t.Fatalf("no end from the agent: %v", err)
				}
				if typ == protocol.InScreenLock {
					if err := protocol.DecodeJSON(p, &lock); err != nil {
						t.Fatal(err)
					}
				}
			}
			if !end.Authenticated || !strings.Contains(end.Reason, "unexpected message 0x16 from technician") {
				t.Errorf("session ended with %+v, want the agent's protocol error", end)
			}
			if !lock.Locked || lock.Method != "custom command" {
				t.Errorf("agent's lock report = %+v, want locked by the custom command", lock)
			}
			eventually(t, "screen lock", 5*time.Second, func() bool { return d.locks() == 1 })
		})
	}
}

// TestForgedLockReportsInSession has an enrolled device, inside a session
// a technician opened, report its screen lock in ways the agent never
// would: several times, with a made-up outcome, with an oversized result,
// with terminal escapes. The relay audits one report per session — the
// first — as "failed" unless it says "locked", cut to 500 bytes, and the
// audit export carries no raw escape.
func TestForgedLockReportsInSession(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		reports []protocol.Control // Mode and Reason of each
		outcome string
		result  string // what the audited result must be
	}{
		{"several reports", []protocol.Control{{Mode: "locked", Reason: "first"}, {Mode: "failed", Reason: "second"}, {Mode: "locked", Reason: "third"}},
			"locked", "first"},
		{"made-up outcome", []protocol.Control{{Mode: "LOCKED", Reason: "screen locked (trust me)"}}, "failed", "screen locked (trust me)"},
		{"no outcome", []protocol.Control{{Reason: "nothing said"}}, "failed", "nothing said"},
		{"oversized result", []protocol.Control{{Mode: "locked", Reason: strings.Repeat("x", 12000)}}, "locked", strings.Repeat("x", 500)},
		{"terminal escapes", []protocol.Control{{Mode: "locked", Reason: "\x1b]52;c;aGk=\x07\x1b[2Jscreen locked"}}, "locked", "\x1b]52;c;aGk=\x07\x1b[2Jscreen locked"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			d := e.enroll("dev")
			ctlConn, key, ep := e.rawDeviceKey(t, d)
			e.waitOnline(d.name)
			tech := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", d.name, "--", "true")
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			offer, err := ctlConn.ReadControl(ctx)
			if err != nil || offer.Type != protocol.CtlOffer {
				t.Fatalf("offer: %v %+v", err, offer)
			}
			c, err := transport.Dial(ctx, ep, protocol.PathAgentSession)
			if err != nil {
				t.Fatal(err)
			}
			defer c.CloseNow()
			if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlAttach, SessionID: offer.Session.ID, AttachToken: offer.AttachToken}); err != nil {
				t.Fatal(err)
			}
			paired, err := c.ReadControl(ctx)
			if err != nil || paired.Type != protocol.CtlPaired {
				t.Fatalf("paired: %v %+v", err, paired)
			}
			var p e2e.Params
			id, _ := hex.DecodeString(paired.Session.ID.String())
			copy(p.SessionID[:], id)
			p.TechID, p.TechUser, p.DeviceKey = paired.Session.TechID, paired.Session.TechUser, key.Public().(ed25519.PublicKey)
			if _, err := transport.Respond(ctx, c, p, key); err != nil {
				t.Fatal(err)
			}
			for _, r := range tc.reports {
				if err := c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlScreenLock, Mode: r.Mode, Reason: r.Reason}); err != nil {
					t.Fatal(err)
				}
			}
			c.WriteControl(ctx, &protocol.Control{Type: protocol.CtlEnd, Reason: "done"})
			<-tech.done
			e.waitLockAudit(paired.Session.ID.String(), tc.outcome, tc.result)
			got := e.lockAudited("session.screen_lock")
			if len(got) != 1 || got[0].Details["result"] != tc.result {
				t.Errorf("audited %d reports (%+v), want exactly the first, %q", len(got), got, tc.result)
			}
			if out := e.techRun("", "audit", "export").stdout; strings.Contains(out, "\x1b") {
				t.Errorf("the audit export carries a raw escape")
			}
		})
	}
}
