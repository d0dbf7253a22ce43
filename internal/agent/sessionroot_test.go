package agent

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/trust"
)

// signedDoc is body as a document of version v valid from an hour ago
// until expiry (zero: none), signed by key.
func signedDoc(t *testing.T, body trust.Body, v uint64, expiry time.Time, key *trust.PrivateKey) *trust.Document {
	t.Helper()
	d, err := trust.NewDocument(body, v, time.Now().Add(-time.Hour), expiry)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sign(key); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestSessionChecksOneRoot: when the chain fetched for a session reaches a
// newer root than the one followed at connect, the signed policy is
// verified against that newer root and the technician's certificate is
// checked against the same one.
func TestSessionChecksOneRoot(t *testing.T) {
	t.Parallel()
	oldAdmin, newAdmin, tech := fixtureKey(1), fixtureKey(3), fixtureKey(2)
	now := time.Now()
	first, err := trust.NewRootBody("Example Hospital", 1, oldAdmin.Public())
	if err != nil {
		t.Fatal(err)
	}
	next, err := trust.NewRootBody("Example Hospital", 1, newAdmin.Public())
	if err != nil {
		t.Fatal(err)
	}
	pin, err := first.Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	rootDoc := signedDoc(t, first, 1, time.Time{}, oldAdmin).Encode()
	atConnect, err := trust.VerifyRoot(rootDoc, now)
	if err != nil {
		t.Fatal(err)
	}
	chain := [][]byte{rootDoc, signedDoc(t, &trust.RootChangeBody{Previous: pin, New: next}, 2, time.Time{}, oldAdmin).Encode()}
	pol := signedDoc(t, &trust.PolicyBody{IdleSeconds: 60, AbsoluteSeconds: 600}, 1, now.Add(time.Hour), newAdmin).Encode()
	cert := signedDoc(t, &trust.TechCertBody{Name: "Alice Example", Username: "alice", Org: "Example Hospital",
		Capabilities: []string{"shell"}, Key: tech.Public()}, 1, now.Add(time.Hour), newAdmin)
	exporter, session := []byte("exporter-exporter-exporter-32byt"), []byte("0123456789abcdef")
	sig, err := trust.SignTechAuth(tech, cert, exporter, session)
	if err != nil {
		t.Fatal(err)
	}
	auth := protocol.TechAuth{Cert: cert.Encode(), Sig: sig.Bytes()}

	ps := &policySource{pin: pin.String(), home: t.TempDir(), mu: &sync.Mutex{}}
	sp, err := ps.verify(chain, nil, pol, now)
	if err != nil {
		t.Fatalf("verify the policy signed by the newer root: %v", err)
	}
	nextFP, _ := next.Fingerprint()
	if sp.root == nil || sp.root.Fingerprint != nextFP {
		t.Fatalf("policy verified against %v, want the newer root %s", sp.root, nextFP)
	}

	connected := sessionTrust{pinned: true, root: atConnect}
	if _, err := verifyTechAuth(connected.root, auth, exporter, session, "alice", now); err == nil {
		t.Fatal("the root followed at connect accepted a certificate only its successor signed")
	}
	tr := connected.withPolicyRoot(sp)
	if !tr.pinned || tr.root != sp.root {
		t.Fatalf("withPolicyRoot = %+v, want the policy's root", tr)
	}
	if c, err := verifyTechAuth(tr.root, auth, exporter, session, "alice", now); err != nil || c.Username != "alice" {
		t.Fatalf("certificate against the session's root: %v, %v", c, err)
	}
	if got := connected.withPolicyRoot(nil); got.root != atConnect {
		t.Error("without a signed policy the root followed at connect must stay")
	}

	// A chain that does not reach the pin is refused before any check.
	other := &policySource{pin: nextFP.String(), home: t.TempDir(), mu: &sync.Mutex{}}
	if _, err := other.verify(chain[:1], nil, pol, now); err == nil || !strings.Contains(err.Error(), "not in the chain") {
		t.Errorf("verify with a chain short of the pin: %v", err)
	}
}
