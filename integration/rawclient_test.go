package integration

import (
	"context"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// rawSession opens a session the way tech does, but with the protocol
// packages directly, so a test can send what the CLI never would.
func (e *env) rawSession(t *testing.T, techHome, device string, caps ...string) *transport.Channel {
	t.Helper()
	return e.rawSessionWith(t, techHome, &protocol.Control{Device: device, Caps: caps}, nil)
}

// rawSessionWith sends req as the session request and, if proof is not
// nil, an InParentProof right after the handshake.
func (e *env) rawSessionWith(t *testing.T, techHome string, req *protocol.Control, proof []byte) *transport.Channel {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	tok := strings.TrimSpace(mustRead(t, filepath.Join(techHome, "token")))
	c, err := transport.Dial(ctx, transport.Endpoint{URL: e.url, Pin: e.fp, Token: tok}, protocol.PathTechSession)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.CloseNow)
	req.Type, req.Version = protocol.CtlRequest, protocol.Version
	if err := c.WriteControl(ctx, req); err != nil {
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
	ch, err := transport.Initiate(ctx, c, p)
	if err != nil {
		t.Fatal(err)
	}
	if proof != nil {
		if err := ch.Send(ctx, protocol.InParentProof, proof); err != nil {
			t.Fatal(err)
		}
	}
	typ, payload, err := ch.Recv(ctx)
	if err != nil || typ != protocol.InConsent || !strings.Contains(string(payload), `"granted":true`) {
		t.Fatalf("consent: %v %v %s", err, typ, payload)
	}
	return ch
}

// capAnswer sends a mid-session capability request and returns the answer.
func capAnswer(t *testing.T, ch *transport.Channel, caps ...string) protocol.Consent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ch.SendJSON(ctx, protocol.InCapRequest, protocol.CapRequest{Caps: caps}); err != nil {
		t.Fatal(err)
	}
	for {
		typ, p, err := ch.Recv(ctx)
		if err != nil {
			t.Fatalf("waiting for the answer: %v", err)
		}
		if typ == protocol.InCapAnswer {
			var c protocol.Consent
			if err := protocol.DecodeJSON(p, &c); err != nil {
				t.Fatal(err)
			}
			return c
		}
	}
}

// TestMidSessionCapabilityRequest asks for more in an open session: the end
// user is prompted again for exactly that request, and a capability the
// technician's role does not allow is refused by the agent without a prompt
// (the relay cannot see this request, so the agent enforces the role).
func TestMidSessionCapabilityRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	asked := filepath.Join(e.dir, "asked.log")
	e.runAgent(d, `echo "$TETHER_CAPABILITIES" >> `+asked)
	ch := e.rawSession(t, e.tech, d.name, "shell")
	got := capAnswer(t, ch, "clipboard")
	if !got.Granted || !strings.Contains(strings.Join(got.Caps, ","), "clipboard") {
		t.Fatalf("mid-session clipboard request: got %+v", got)
	}
	if prompts := lines(mustRead(t, asked)); len(prompts) != 2 || prompts[1] != "clipboard" {
		t.Fatalf("end user prompts %q, want shell then clipboard", prompts)
	}

	// A role without session.clipboard: the agent refuses the request.
	if r := e.techRun("", "roles", "create", "shellonly", "--allow", "session.start,session.unattended"); r.code != 0 {
		t.Fatalf("roles create: %s", r.stderr)
	}
	home := e.addUser("sam", "shellonly")
	ch2 := e.rawSession(t, home, d.name, "shell")
	got = capAnswer(t, ch2, "clipboard")
	if got.Granted || !strings.Contains(got.Why, "does not allow clipboard") {
		t.Fatalf("request outside the role: got %+v", got)
	}
	if prompts := lines(mustRead(t, asked)); len(prompts) != 3 {
		t.Fatalf("the end user was prompted for a capability the role forbids: %q", prompts)
	}
}

// TestForgedParentProofIsAskedAgain reuses a live session's consent with
// a proof that was not made with that session's keys (what a relay
// impersonating the technician could send): the end user is asked again.
func TestForgedParentProofIsAskedAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	asked := filepath.Join(e.dir, "asked.log")
	e.runAgent(d, `echo "$TETHER_CAPABILITIES" >> `+asked)
	sh := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", "--caps", "shell,files", d.name, "--", "sleep", "30")
	id := e.liveSession()
	e.rawSessionWith(t, e.tech, &protocol.Control{Device: d.name, Caps: []string{protocol.CapFilesTo}, Parent: ids.SessionID(id)},
		make([]byte, 32))
	if prompts := lines(mustRead(t, asked)); len(prompts) != 2 {
		t.Fatalf("a forged parent proof borrowed the consent: prompts %q", prompts)
	}
	sh.kill9()
}
