package relay

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/trust"
)

// certDoc is a certificate of username's key, signed by signers.
func certDoc(t *testing.T, username string, key *trust.PrivateKey, expiry time.Time, signers ...*trust.PrivateKey) []byte {
	t.Helper()
	return signedDoc(t, &trust.TechCertBody{Name: "Root", Username: username, Org: "Org",
		Capabilities: []string{"shell"}, Key: key.Public()}, 1, time.Now().Add(-time.Minute), expiry, signers...)
}

// TestTechCertificates walks one technician's key and certificate through
// the relay: no certificate before a root, the key uploaded, the facts an
// administrator certifies, certificates refused for the wrong signer, user
// or key, and the stored one served to its owner.
func TestTechCertificates(t *testing.T) {
	s := newTestServer(t)
	root, err := s.db.UserByName("root")
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := trust.GenerateKey(nil)
	stranger, _ := trust.GenerateKey(nil)
	techKey, _ := trust.GenerateKey(nil)
	otherKey, _ := trust.GenerateKey(nil)
	certPath := protocol.PathTrustCerts + "/root"
	later := time.Now().Add(time.Hour)

	if code, body := callBody(t, s, root, http.MethodGet, protocol.PathTrustCert, nil); code != http.StatusNotFound || !strings.Contains(body, "no certificate") {
		t.Fatalf("own certificate before any: %d %s", code, body)
	}
	if code, body := callBody(t, s, root, http.MethodGet, certPath, nil); code != http.StatusNotFound || !strings.Contains(body, "no technician key") {
		t.Fatalf("facts before a key: %d %s", code, body)
	}
	if code, body := callBody(t, s, root, http.MethodPut, protocol.PathTrustTechKey, api.TechKey{Key: []byte("short")}); code != http.StatusBadRequest {
		t.Fatalf("a malformed key: %d %s", code, body)
	}
	if code, body := callBody(t, s, root, http.MethodPut, protocol.PathTrustTechKey, api.TechKey{Key: techKey.Public().Bytes()}); code != http.StatusOK {
		t.Fatalf("upload key: %d %s", code, body)
	}
	code, body := callBody(t, s, root, http.MethodGet, certPath, nil)
	var facts api.CertifyFacts
	if code != http.StatusOK || json.Unmarshal([]byte(body), &facts) != nil {
		t.Fatalf("facts: %d %s", code, body)
	}
	if facts.Username != "root" || string(facts.Key) != string(techKey.Public().Bytes()) || len(facts.Capabilities) == 0 {
		t.Fatalf("facts = %+v", facts)
	}
	if code, body := callBody(t, s, root, http.MethodPut, certPath, api.TrustPublish{Document: certDoc(t, "root", techKey, later, admin)}); code != http.StatusConflict || !strings.Contains(body, "no trust root") {
		t.Fatalf("certificate without a root: %d %s", code, body)
	}
	_, rdoc := rootDoc(t, 1, []*trust.PrivateKey{admin}, admin)
	if code, body := callBody(t, s, root, http.MethodPut, protocol.PathTrustRoot, api.TrustPublish{Document: rdoc}); code != http.StatusOK {
		t.Fatalf("publish root: %d %s", code, body)
	}
	good := certDoc(t, "root", techKey, later, admin)
	for _, tc := range []struct {
		name   string
		doc    []byte
		status int
		want   string
	}{
		{"signed by a stranger", certDoc(t, "root", techKey, later, stranger), http.StatusBadRequest, "not signed by enough"},
		{"for another user", certDoc(t, "alice", techKey, later, admin), http.StatusBadRequest, "alice"},
		{"for another key", certDoc(t, "root", otherKey, later, admin), http.StatusConflict, "current key"},
		{"not a certificate", rdoc, http.StatusBadRequest, "wrong document kind"},
		{"valid", good, http.StatusOK, "cert_id"},
	} {
		code, body := callBody(t, s, root, http.MethodPut, certPath, api.TrustPublish{Document: tc.doc})
		if code != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: got %d %s, want %d %q", tc.name, code, body, tc.status, tc.want)
		}
	}
	code, body = callBody(t, s, root, http.MethodGet, protocol.PathTrustCert, nil)
	var own api.TechCert
	if code != http.StatusOK || json.Unmarshal([]byte(body), &own) != nil || string(own.Document) != string(good) {
		t.Fatalf("own certificate: %d %s", code, body)
	}
	// A new key drops the certificate of the old one.
	if code, body := callBody(t, s, root, http.MethodPut, protocol.PathTrustTechKey, api.TechKey{Key: otherKey.Public().Bytes()}); code != http.StatusOK {
		t.Fatalf("new key: %d %s", code, body)
	}
	if code, _ := callBody(t, s, root, http.MethodGet, protocol.PathTrustCert, nil); code != http.StatusNotFound {
		t.Fatalf("certificate of a replaced key still served: %d", code)
	}
}
