package agent

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/consent"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/trust"
)

// certFixture is a root (admin key 1), a certificate for alice's key 2
// and a valid proof for one session.
type certFixture struct {
	root     *trust.Root
	cert     []byte
	proof    []byte
	exporter []byte
	session  []byte
	now      time.Time
}

func fixtureKey(i byte) *trust.PrivateKey {
	var seed [trust.SeedSize]byte
	seed[0] = i
	return trust.NewKeyFromSeed(seed)
}

func newCertFixture(t *testing.T) certFixture {
	t.Helper()
	admin, tech := fixtureKey(1), fixtureKey(2)
	now := time.Now()
	rb, err := trust.NewRootBody("Example Hospital", 1, admin.Public())
	if err != nil {
		t.Fatal(err)
	}
	rd, err := trust.NewDocument(rb, 1, now.Add(-time.Hour), time.Time{})
	if err != nil || rd.Sign(admin) != nil {
		t.Fatal(err)
	}
	root, err := trust.VerifyRoot(rd.Encode(), now)
	if err != nil {
		t.Fatal(err)
	}
	cd, err := trust.NewDocument(&trust.TechCertBody{Name: "Alice Example", Username: "alice", Org: "Example Hospital",
		Capabilities: []string{"clipboard", "files"}, Key: tech.Public()}, 1, now.Add(-time.Minute), now.Add(time.Hour))
	if err != nil || cd.Sign(admin) != nil {
		t.Fatal(err)
	}
	f := certFixture{root: root, cert: cd.Encode(), exporter: []byte("exporter-exporter-exporter-32byt"),
		session: []byte("0123456789abcdef"), now: now}
	sig, err := trust.SignTechAuth(tech, cd, f.exporter, f.session)
	if err != nil {
		t.Fatal(err)
	}
	f.proof = sig.Bytes()
	return f
}

func TestVerifyTechAuthAgent(t *testing.T) {
	f := newCertFixture(t)
	for _, tc := range []struct {
		name    string
		user    string
		now     time.Time
		proof   []byte
		wantErr string
	}{
		{"certified", "alice", f.now, f.proof, ""},
		{"relay renamed the technician", "mallory", f.now, f.proof, "the relay renamed the technician"},
		{"expired certificate", "alice", f.now.Add(2 * time.Hour), f.proof, "expired"},
		{"proof from another session", "alice", f.now, make([]byte, trust.SignatureSize), "does not verify"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert, err := verifyTechAuth(f.root, protocol.TechAuth{Cert: f.cert, Sig: tc.proof}, f.exporter, f.session, tc.user, tc.now)
			if tc.wantErr == "" {
				if err != nil || cert.Org != "Example Hospital" {
					t.Fatalf("verifyTechAuth = %v, %v", cert, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("verifyTechAuth error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestLimitToCert(t *testing.T) {
	cert := &trust.TechCertBody{Org: "Example Hospital", Capabilities: []string{"clipboard", "files"}}
	for _, tc := range []struct {
		name        string
		cert        *trust.TechCertBody
		requested   []string
		allowed     []string
		wantErr     bool
		wantAllowed []string
	}{
		{"no certificate changes nothing", nil, []string{"shell"}, []string{"shell", "files"}, false, []string{"shell", "files"}},
		{"within the ceiling", cert, []string{"files:to-device"}, []string{"shell", "clipboard", "files:from-device"}, false,
			[]string{"clipboard", "files:from-device"}},
		{"beyond the ceiling", cert, []string{"files", "shell"}, nil, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := limitToCert(policy{requested: tc.requested, allowed: tc.allowed}, tc.cert)
			if (err != nil) != tc.wantErr {
				t.Fatalf("limitToCert error = %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "shell") {
					t.Errorf("refusal %q does not name the capability", err)
				}
				return
			}
			if !slices.Equal(got.allowed, tc.wantAllowed) {
				t.Errorf("allowed = %v, want %v", got.allowed, tc.wantAllowed)
			}
		})
	}
}

func TestCertifyRequest(t *testing.T) {
	req := consent.Request{TechName: "Relay Says", TechUser: "mallory", Org: "Relay Org"}
	certifyRequest(&req, nil)
	if req.Verified != "" || req.TechUser != "mallory" {
		t.Fatalf("no certificate changed the request: %+v", req)
	}
	certifyRequest(&req, &trust.TechCertBody{Name: "Alice Example", Username: "alice", Org: "Example Hospital"})
	if req.Verified != "Example Hospital" || req.TechName != "Alice Example" || req.TechUser != "alice" || req.Org != "Example Hospital" {
		t.Fatalf("certified request: %+v", req)
	}
}

func TestErrUncertifiedSaysVersion1(t *testing.T) {
	if !strings.Contains(errUncertified.Error(), "version 1 refused once a root is pinned") || errors.Unwrap(errUncertified) != nil {
		t.Fatalf("errUncertified = %q", errUncertified)
	}
}
