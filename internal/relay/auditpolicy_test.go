package relay

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/trust"
)

// TestCheckSessionPolicy: the policy recorded for a session request must
// be archived (or stored), signed under the recorded root and in force at
// the request's time.
func TestCheckSessionPolicy(t *testing.T) {
	docs := trustDocs{dir: t.TempDir()}
	a, _ := trust.GenerateKey(nil)
	stranger, _ := trust.GenerateKey(nil)
	rb, rdoc := rootDoc(t, 1, []*trust.PrivateKey{a}, a)
	fp, _ := rb.Fingerprint()
	b, _ := json.Marshal(api.TrustChain{Documents: [][]byte{rdoc}})
	docs.write(trustChainName, b)
	exp := time.Now().Add(24 * time.Hour)
	good := policyDoc(t, 2, exp, a)
	forged := policyDoc(t, 3, exp, stranger)
	if err := archivePolicy(docs, good); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(api.TrustPolicy{Document: forged}) // what a tamperer stored
	docs.write(trustPolicyName, b)
	hash := func(doc []byte) string { s := sha256.Sum256(doc); return hex.EncodeToString(s[:]) }
	otherBody, _ := rootDoc(t, 1, []*trust.PrivateKey{stranger}, stranger)
	otherFP, _ := otherBody.Fingerprint()
	tests := []struct {
		name    string
		root    string
		hash    string
		version string
		at      time.Time
		want    string // "" for valid
	}{
		{"archived and valid", fp.String(), hash(good), "2", time.Now(), ""},
		{"no policy", fp.String(), "none", "", time.Now(), "no signed policy"},
		{"tampered stored policy", fp.String(), hash(forged), "3", time.Now(), "not validly signed"},
		{"never accepted", fp.String(), hash([]byte("x")), "1", time.Now(), "never accepted"},
		{"expired then", fp.String(), hash(good), "2", exp.Add(time.Hour), "expired"},
		{"another root", otherFP.String(), hash(good), "2", time.Now(), "not in the stored chain"},
		{"version differs", fp.String(), hash(good), "7", time.Now(), "was recorded"},
	}
	for _, tt := range tests {
		r := &store.AuditRecord{Action: "session.request", Time: tt.at,
			Details: map[string]string{detailTrustRoot: tt.root, detailPolicyHash: tt.hash, detailPolicyVersion: tt.version}}
		got := checkSessionPolicy(docs, [][]byte{rdoc}, r)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestCheckReceiptPolicy: a verified receipt naming another policy
// version than the one recorded is a finding; anything else is not.
func TestCheckReceiptPolicy(t *testing.T) {
	tests := []struct {
		name, check, receipt, recorded string
		finding                        bool
	}{
		{"same version", "verified", `{"policy_version":2}`, "2", false},
		{"other version", "verified", `{"policy_version":3}`, "2", true},
		{"no version (no pinned root)", "verified", `{}`, "2", false},
		{"unverified receipt", "bad signature", `{"policy_version":3}`, "2", false},
		{"malformed receipt", "verified", `{`, "2", false},
	}
	for _, tt := range tests {
		r := &store.AuditRecord{Action: "session.consent", Details: map[string]string{"receipt_check": tt.check, "receipt": tt.receipt}}
		if got := checkReceiptPolicy(r, tt.recorded); (got != "") != tt.finding {
			t.Errorf("%s: %q, want a finding: %v", tt.name, got, tt.finding)
		}
	}
}
