package integration

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/trust"
)

// newUnattendedEnv is a relay (the hostile build) with a trust root, a certified admin, a
// signed policy that makes the default group unattended, and a device that
// pinned the root running with --allow-unattended and a consent command
// that always refuses: a session that starts was never asked.
func newUnattendedEnv(t *testing.T) *policyEnv {
	t.Helper()
	base := &env{t: t, dir: t.TempDir()}
	lie := filepath.Join(base.dir, "hostile-session-info.json")
	base.relayBin, base.relayEnv = hostileRelayBin(t), []string{"TETHER_HOSTILE_SESSION_INFO=" + lie}
	e := &policyEnv{trustEnv: trustEnvFor(newEnvFrom(t, base)), lie: lie}
	e.mustTrust("", "init", "--passphrase-file", e.pass)
	if r := e.techRun("", "devices", "group-policy", "default", "unattended"); r.code != 0 {
		t.Fatalf("group-policy: %s", r.stderr)
	}
	e.readyForSessions()
	e.dev = e.enroll("ward")
	e.runAgent(e.dev, "exit 1", "--allow-unattended")
	return e
}

// emergencyToken is a break-glass superadmin token from `relay
// emergency-access`, which needs nothing but the relay's data directory.
func (e *policyEnv) emergencyToken() string {
	e.t.Helper()
	r := run(e.t, e.dir, "", bin.relay, "emergency-access", "--data", filepath.Join(e.dir, "data"), "--reason", "INC-7: admins locked out")
	if r.code != 0 {
		e.t.Fatalf("emergency-access: code %d stderr %q", r.code, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// stolenCert is the admin's certificate as the relay stores it: public,
// so whoever holds the data directory has it, but not its private key.
func (e *policyEnv) stolenCert() []byte {
	e.t.Helper()
	var m map[string]struct{ Cert []byte }
	if err := json.Unmarshal([]byte(mustRead(e.t, filepath.Join(e.dir, "data", "tech-certs.json"))), &m); err != nil {
		e.t.Fatal(err)
	}
	for _, entry := range m {
		if len(entry.Cert) > 0 {
			return entry.Cert
		}
	}
	e.t.Fatal("no certificate in tech-certs.json")
	return nil
}

// rawUnattended opens an unattended session to the device with token as
// a client of the relay's own making: it negotiates the technician
// certificate feature and sends auth(exporter, sessionID) as InTechAuth.
// It returns why the agent ended the session and fails the test if the
// agent granted it.
func (e *policyEnv) rawUnattended(token string, auth func(exporter, sessionID []byte) protocol.TechAuth) string {
	t := e.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := transport.Dial(ctx, transport.Endpoint{URL: e.url, Pin: e.fp, Token: token}, protocol.PathTechSession)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	req := &protocol.Control{Type: protocol.CtlRequest, Version: protocol.Version, Device: e.dev.name,
		Caps: []string{"shell"}, Reason: "INC-7: the relay helps itself"}
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
	ch, err := transport.InitiateWith(ctx, c, p, transport.Supported())
	if err != nil {
		t.Fatal(err)
	}
	msg, err := protocol.AppendTechAuth(nil, auth(ch.Exporter, id))
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.SendMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	for {
		typ, _, err := ch.Recv(ctx)
		var end *transport.EndError
		if errors.As(err, &end) {
			return end.Reason
		}
		if err != nil {
			t.Fatalf("no end from the agent: %v", err)
		}
		if typ == protocol.InConsent {
			t.Fatal("the agent answered a session the relay opened itself")
		}
	}
}

// refusedAs is policyEnv.refused for the tech signed in at home.
func (e *policyEnv) refusedAs(home, what, want string, extra ...string) {
	e.t.Helper()
	before := e.recorded()
	marker := filepath.Join(e.dir, "ran-"+strings.ReplaceAll(what, " ", "-"))
	r := e.techAs(home, "", append(append([]string{"connect", e.dev.name}, extra...), "--", "touch", marker)...)
	_, err := os.Stat(marker)
	if r.code == 0 || err == nil || !strings.Contains(r.stderr, "refused by the device") || !strings.Contains(r.stderr, want) {
		e.t.Errorf("%s: code %d, command ran %v, stderr %q; want a refusal by the device naming %q", what, r.code, err == nil, r.stderr, want)
	}
	if n := e.recorded(); n != before {
		e.t.Errorf("%s: %d bytes recorded, want %d: a refused session recorded something", what, n, before)
	}
}

// TestUnattendedNeedsCertifiedTechnician: with a root pinned and a signed
// policy that makes the device's group unattended, a certified technician
// gets the session without a prompt; a relay that opens one itself (a
// break-glass token from its data directory, no certificate, or the
// certificate it stores with a proof of its own key) gets nothing: the
// agent refuses, nothing runs, nothing is recorded. Break-glass access
// still administers the relay, but its sessions are refused by the agent.
func TestUnattendedNeedsCertifiedTechnician(t *testing.T) {
	t.Parallel()
	e := newUnattendedEnv(t)
	if r, ran := e.connect("--reason", "ticket 1"); r.code != 0 || !ran {
		t.Fatalf("certified technician, unattended group: code %d ran %v stderr %q", r.code, ran, r.stderr)
	}
	if strings.Contains(e.dev.proc.Output(), "consent refused") {
		t.Fatalf("the certified unattended session asked the end user: %s", e.dev.proc.Output())
	}

	tok := e.emergencyToken()
	before := e.recorded()
	stolen := func(exporter, sessionID []byte) protocol.TechAuth {
		cert := e.stolenCert()
		d, err := trust.Decode(cert)
		if err != nil {
			t.Fatal(err)
		}
		k, err := trust.GenerateKey(nil)
		if err != nil {
			t.Fatal(err)
		}
		sig, err := trust.SignTechAuth(k, d, exporter, sessionID)
		if err != nil {
			t.Fatal(err)
		}
		return protocol.TechAuth{Cert: cert, Sig: sig.Bytes()}
	}
	raw := []struct {
		name, lie, want string
		auth            func(exporter, sessionID []byte) protocol.TechAuth
	}{
		{"relay with no certificate", "", "presented no certificate",
			func([]byte, []byte) protocol.TechAuth { return protocol.TechAuth{} }},
		{"relay with the stored certificate", "", "the relay renamed the technician", stolen},
		{"relay with the stored certificate, naming its holder", `{"tech_user":"admin","tech_name":"Admin"}`,
			"refusing the technician's identity", stolen},
	}
	for _, a := range raw {
		e.lieWith(a.lie)
		if why := e.rawUnattended(tok, a.auth); !strings.Contains(why, a.want) {
			t.Errorf("%s: the agent ended the session with %q, want %q", a.name, why, a.want)
		}
		if !logs(e.dev.proc.Output, a.want) {
			t.Errorf("%s: the agent did not log %q", a.name, a.want)
		}
	}
	e.lieWith("")
	if n := e.recorded(); n != before {
		t.Errorf("sessions the relay opened itself recorded %d bytes, want %d", n, before)
	}

	// Break-glass: the relay's own administration works, a device does not.
	em := filepath.Join(e.dir, "tech-emergency")
	if r := e.techAs(em, tok+"\n", "emergency-login", "--relay", e.url, "--ca-fingerprint", e.fp); r.code != 0 {
		t.Fatalf("emergency-login: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techAs(em, "", "users", "list"); r.code != 0 || !strings.Contains(r.stdout, "admin") {
		t.Fatalf("users list with emergency access: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	e.refusedAs(em, "emergency session", "presented no certificate", "--reason", "INC-7")
	if out := e.techRun("", "audit", "export").stdout; !strings.Contains(out, "emergency.use") || !strings.Contains(out, "presented no certificate") {
		t.Errorf("the audit log does not show the emergency use and the agent's refusal: %q", out)
	}

	if r, ran := e.connect("--reason", "ticket 2"); r.code != 0 || !ran {
		t.Fatalf("certified technician after the attempts: code %d ran %v stderr %q", r.code, ran, r.stderr)
	}
}
