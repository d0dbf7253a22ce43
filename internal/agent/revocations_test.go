package agent

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/trust"
)

// certWithGroups is a certificate for alice under admin key 1 covering groups.
func certWithGroups(t *testing.T, now time.Time, groups ...string) []byte {
	t.Helper()
	cd, err := trust.NewDocument(&trust.TechCertBody{Name: "Alice Example", Username: "alice", Org: "Example Hospital",
		DeviceGroups: groups, Key: fixtureKey(2).Public()}, 1, now.Add(-time.Minute), now.Add(time.Hour))
	if err != nil || cd.Sign(fixtureKey(1)) != nil {
		t.Fatal(err)
	}
	return cd.Encode()
}

// TestCheckCert: a revoked certificate, one signed only by a revoked
// administrator, and one not covering the device's group are refused.
func TestCheckCert(t *testing.T) {
	f := newCertFixture(t)
	d, err := trust.Decode(f.cert)
	if err != nil {
		t.Fatal(err)
	}
	none := revocations{body: &trust.RevocationBody{}}
	cases := []struct {
		name    string
		cert    []byte
		root    *trust.Root
		revoked revocations
		group   string
		want    string
	}{
		{"no certificate", nil, f.root, none, "default", ""},
		{"honest", f.cert, f.root, none, "default", ""},
		{"revoked", f.cert, f.root, revocations{body: trust.NewRevocationBody([]trust.KeyID{trust.CertID(d)}, nil, nil), version: 4}, "default",
			"is revoked (revocation list version 4)"},
		{"signed by a revoked administrator", f.cert, f.root.Revoke([]trust.KeyID{fixtureKey(1).Public().ID()}), none, "default",
			"without revoked administrator keys"},
		{"no groups covers every group", certWithGroups(t, f.now), f.root, none, "servers", ""},
		{"group covered", certWithGroups(t, f.now, "desks", "servers"), f.root, none, "servers", ""},
		{"group not covered", certWithGroups(t, f.now, "desks"), f.root, none, "servers", `covers device groups desks, not this device's group "servers"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkCert(c.cert, &signedPolicy{root: c.root, revoked: c.revoked, group: c.group}, f.now)
			if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
}

// TestCheckRevokedReviewers: a policy listing a revoked reviewer key is refused.
func TestCheckRevokedReviewers(t *testing.T) {
	body := &trust.PolicyBody{Recipients: []string{"tether-rec1-a", "tether-rec1-b"}}
	cases := []struct {
		name    string
		revoked []trust.KeyID
		want    string
	}{
		{"none revoked", nil, ""},
		{"another key revoked", []trust.KeyID{trust.ReviewerID("tether-rec1-c")}, ""},
		{"a listed key revoked", []trust.KeyID{trust.ReviewerID("tether-rec1-b")}, "lists recording recipient tether-rec1-b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkRevokedReviewers(body, 2, revocations{body: trust.NewRevocationBody(nil, c.revoked, nil), version: 3})
			if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
				t.Fatalf("err %v, want %q", err, c.want)
			}
		})
	}
}

// TestAcceptPinned: versions never go back, and the highest is kept.
func TestAcceptPinned(t *testing.T) {
	path := filepath.Join(t.TempDir(), "revocation-version.json")
	steps := []struct {
		v        uint64
		rollback bool
	}{{2, false}, {2, false}, {5, false}, {4, true}, {6, false}}
	for _, st := range steps {
		err := acceptPinned(path, trust.KindRevocation, st.v)
		if errors.Is(err, trust.ErrRollback) != st.rollback || (err != nil && !st.rollback) {
			t.Fatalf("version %d: %v", st.v, err)
		}
	}
	p, err := readPinned(path, trust.KindRevocation)
	if err != nil || p.Highest != 6 {
		t.Fatalf("highest %d, %v; want 6", p.Highest, err)
	}
}
