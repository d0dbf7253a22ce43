package relay

import (
	"testing"

	"github.com/tether-support/tether/internal/store"
)

// TestCheckReceiptCert: a verified receipt naming a certificate no
// trust.cert.issue entry issued is a finding; anything else is not.
func TestCheckReceiptCert(t *testing.T) {
	issued := map[string]bool{"aa11": true}
	tests := []struct {
		name, check, receipt string
		finding              bool
	}{
		{"issued certificate", "verified", `{"cert_id":"aa11"}`, false},
		{"never issued", "verified", `{"cert_id":"bb22"}`, true},
		{"no certificate (no pinned root)", "verified", `{}`, false},
		{"unverified receipt", "bad signature", `{"cert_id":"bb22"}`, false},
		{"malformed receipt", "verified", `{`, false},
	}
	for _, tt := range tests {
		r := &store.AuditRecord{Action: "session.consent", Details: map[string]string{"receipt_check": tt.check, "receipt": tt.receipt}}
		if got := checkReceiptCert(r, issued); (got != "") != tt.finding {
			t.Errorf("%s: %q, want a finding: %v", tt.name, got, tt.finding)
		}
	}
}
