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

// certEnv is a trust env whose admin has a root, a certificate of their
// own, a signed policy, and a device that pinned the root.
type certEnv struct {
	*trustEnv
	dev      *device
	verified string // where the consent command writes TETHER_TECH_VERIFIED
	org      string
}

func newCertEnv(t *testing.T) *certEnv {
	t.Helper()
	e := &certEnv{trustEnv: newTrustEnv(t)}
	e.mustTrust("", "init", "--passphrase-file", e.pass)
	e.readyForSessions()
	if out := e.techRun("", "audit", "export"); !strings.Contains(out.stdout, `"trust.cert.issue"`) {
		t.Errorf("no trust.cert.issue audit entry: %q %q", out.stdout, out.stderr)
	}
	show := e.techRun("", "trust", "show")
	_, after, _ := strings.Cut(show.stderr, "Organisation ")
	e.org, _, _ = strings.Cut(after, ":")
	e.verified = filepath.Join(e.dir, "verified")
	e.dev = e.enroll("ward")
	return e
}

// certFile is where the relay keeps technicians' keys and certificates.
func (e *certEnv) certFile() string { return filepath.Join(e.dir, "data", "tech-certs.json") }

// certs reads the relay's keys and certificates by user ID.
func (e *certEnv) certs() map[string]map[string][]byte {
	e.t.Helper()
	m := map[string]map[string][]byte{}
	if err := json.Unmarshal([]byte(mustRead(e.t, e.certFile())), &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

// serveCert makes the relay serve cert (nil: none) as the admin's
// certificate, as whoever holds its data directory could.
func (e *certEnv) serveCert(cert []byte) {
	e.t.Helper()
	m := e.certs()
	if len(m) != 1 {
		e.t.Fatalf("%d technicians in %s, want the admin alone", len(m), e.certFile())
	}
	for id, entry := range m {
		entry["cert"] = cert
		m[id] = entry
	}
	b, err := json.Marshal(m)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(e.certFile(), b, 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// forgeCert is a certificate of the admin's own technician key with the
// given username, capabilities and validity, signed with the admin's real
// trust key: what an administrator could be tricked into signing, or an
// expired one.
func (e *certEnv) forgeCert(username string, caps []string, issued, expiry time.Time) []byte {
	e.t.Helper()
	admin, err := trust.ReadKeyFile(filepath.Join(e.tech, "admin.key"), []byte("a long trust passphrase"))
	if err != nil {
		e.t.Fatal(err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(mustRead(e.t, filepath.Join(e.tech, "tech.key"))))
	if err != nil || len(raw) != trust.SeedSize {
		e.t.Fatalf("tech.key: %v", err)
	}
	var seed [trust.SeedSize]byte
	copy(seed[:], raw)
	d, err := trust.NewDocument(&trust.TechCertBody{Name: "Admin", Username: username, Org: e.org,
		Capabilities: caps, Key: trust.NewKeyFromSeed(seed).Public()}, uint64(issued.Unix()), issued, expiry)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := d.Sign(admin); err != nil {
		e.t.Fatal(err)
	}
	return d.Encode()
}

// uncertifiedSession opens a session the way a tech from before
// certificates would (no tech-cert feature) and returns why it ended.
func (e *certEnv) uncertifiedSession() string {
	t := e.t
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok := strings.TrimSpace(mustRead(t, filepath.Join(e.tech, "token")))
	c, err := transport.Dial(ctx, transport.Endpoint{URL: e.url, Pin: e.fp, Token: tok}, protocol.PathTechSession)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	req := &protocol.Control{Type: protocol.CtlRequest, Version: protocol.Version, Device: e.dev.name, Caps: []string{"shell"}}
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
	if ch.Features().Has(protocol.FeatureTechCert) {
		t.Fatal("a plain initiator negotiated tech-cert")
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
			t.Fatal("the agent asked for consent for an uncertified technician")
		}
	}
}

// TestTechCertificateRefusals: with a root pinned, the real agent refuses
// a technician the relay renamed, one asking beyond the certificate, an
// expired certificate, a withheld one and a tech without certificates,
// each before any prompt and with nothing run; the honest certified
// session is shown as verified by the organisation.
func TestTechCertificateRefusals(t *testing.T) {
	t.Parallel()
	e := newCertEnv(t)
	e.runAgent(e.dev, `printf '%s' "$TETHER_TECH_VERIFIED" > `+e.verified+`; exit 0`)
	honest := e.certs()
	var good []byte
	for _, entry := range honest {
		good = entry["cert"]
	}
	now := time.Now()
	cases := []struct {
		name string
		cert []byte
		want string
	}{
		{"the relay renames the technician", e.forgeCert("mallory", []string{"clipboard", "files", "files:from-device", "files:to-device", "shell"}, now.Add(-time.Minute), now.Add(time.Hour)),
			`the relay renamed the technician: the certificate is for another technician: it certifies "mallory", the relay says "admin"`},
		{"a capability outside the certificate", e.forgeCert("admin", []string{"clipboard"}, now.Add(-time.Minute), now.Add(time.Hour)),
			"the technician asks for shell, beyond what their certificate allows (clipboard)"},
		{"an expired certificate", e.forgeCert("admin", []string{"shell"}, now.Add(-2*time.Hour), now.Add(-time.Hour)),
			"technician certificate: tech-cert version"},
		{"a withheld certificate", nil, "version 1 refused once a root is pinned"},
	}
	for _, tc := range cases {
		e.serveCert(tc.cert)
		r := e.techRun("", "connect", e.dev.name, "--", "echo", "pwned")
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stdout, "pwned") {
			t.Errorf("%s: code %d stdout %q stderr %q, want a refusal naming %q", tc.name, r.code, r.stdout, r.stderr, tc.want)
		}
		if tc.name == "an expired certificate" && !strings.Contains(r.stderr, "expired") {
			t.Errorf("%s: stderr %q does not say expired", tc.name, r.stderr)
		}
	}
	e.serveCert(good)
	if reason := e.uncertifiedSession(); !strings.Contains(reason, "version 1 refused once a root is pinned") {
		t.Errorf("a tech without tech-cert: session ended with %q", reason)
	}
	if _, err := os.Stat(e.verified); err == nil {
		t.Errorf("the consent command ran for a refused technician")
	}
	if n := e.dev.locks(); n != 0 {
		t.Errorf("the screen was locked %d times: a refused session must not have run", n)
	}

	r := e.techRun("", "connect", e.dev.name, "--", "echo", "certified")
	if r.code != 0 || !strings.Contains(r.stdout, "certified") {
		t.Fatalf("certified session: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := mustRead(t, e.verified); got != "yes "+e.org || e.org == "" {
		t.Errorf("TETHER_TECH_VERIFIED = %q, want %q", got, "yes "+e.org)
	}
}

// TestTechCertificatePromptSaysVerified: the terminal prompt of an agent
// that pinned the root shows the certified technician as verified by the
// organisation.
func TestTechCertificatePromptSaysVerified(t *testing.T) {
	t.Parallel()
	e := newCertEnv(t)
	agent := startPTYEnv(t, e.dir, []string{"HOME=" + e.dev.userHome}, bin.agent, "--config", e.dev.home, "run", "--lock-cmd", "echo locked >> "+e.dev.lockLog)
	e.waitOnline(e.dev.name)
	connect := start(t, e.dir, nil, bin.tech, "--config", e.tech, "connect", e.dev.name, "--", "echo", "certified")
	agent.expect("Identity:     verified by "+e.org, 15*time.Second)
	agent.expect("Allow?", 5*time.Second)
	agent.send("y\r")
	<-connect.done
	if out := connect.Output(); !strings.Contains(out, "certified") {
		t.Errorf("tech connect after consent: %q", out)
	}
}

// TestTechCertificateTwoAdmins: under a two-person root a certificate
// signed by one administrator is written for the other, refused by the
// relay with one signature and accepted with both.
func TestTechCertificateTwoAdmins(t *testing.T) {
	t.Parallel()
	e := newTrustEnv(t)
	e.mustTrust("", "init", "--passphrase-file", e.pass)
	bobHome, bobPub := e.adminKey("bob")
	e.mustTrust("", "add-admin", bobPub, "--threshold", "2", "--passphrase-file", e.pass)
	if r := e.techRun("", "users", "certify", "admin", "--passphrase-file", e.pass); r.code != 1 || !strings.Contains(r.stderr, "--out") {
		t.Errorf("certify under a two-person root without --out: code %d stderr %q", r.code, r.stderr)
	}
	file := filepath.Join(e.dir, "admin.cert")
	if r := e.techRun("", "users", "certify", "admin", "--out", file, "--passphrase-file", e.pass); r.code != 0 || !strings.Contains(r.stderr, "1 of 2 signatures") {
		t.Fatalf("certify --out: code %d stderr %q", r.code, r.stderr)
	}
	if r := e.techRun("", "trust", "publish", file); r.code != 1 || !strings.Contains(r.stderr, "1 valid of 2 required") {
		t.Errorf("publishing a certificate with one signature of two: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
	e.mustTrust(bobHome, "sign", file, "--passphrase-file", e.pass)
	r := e.techRun("", "trust", "publish", file)
	if r.code != 0 || len(strings.TrimSpace(r.stdout)) != 64 || !strings.Contains(r.stderr, "Certified") {
		t.Fatalf("publishing the certificate with both signatures: code %d stdout %q stderr %q", r.code, r.stdout, r.stderr)
	}
}
