package agent

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/trust"
)

// TestAcceptedVersions: the highest policy and revocation list versions
// recorded are reported, "none yet" for one never accepted, and a corrupt
// record is an error.
func TestAcceptedVersions(t *testing.T) {
	tests := []struct {
		name          string
		policy, revoc uint64
		corrupt       bool
		want          []string
	}{
		{"none accepted", 0, 0, false, []string{"policy version accepted: none yet", "revocation list version accepted: none yet"}},
		{"policy only", 3, 0, false, []string{"policy version accepted: 3", "revocation list version accepted: none yet"}},
		{"both", 3, 7, false, []string{"policy version accepted: 3", "revocation list version accepted: 7"}},
		{"corrupt revocation record", 3, 0, true, nil},
	}
	for _, tt := range tests {
		home := t.TempDir()
		if tt.policy > 0 {
			if err := acceptPinned(policyVersionPath(home), trust.KindPolicy, tt.policy); err != nil {
				t.Fatal(err)
			}
		}
		if tt.revoc > 0 {
			if err := acceptPinned(revocationVersionPath(home), trust.KindRevocation, tt.revoc); err != nil {
				t.Fatal(err)
			}
		}
		if tt.corrupt {
			if err := os.WriteFile(revocationVersionPath(home), []byte("{"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		var w bytes.Buffer
		err := acceptedVersions(home, &w)
		if tt.corrupt {
			if err == nil {
				t.Errorf("%s: no error", tt.name)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for _, want := range tt.want {
			if !strings.Contains(w.String(), want) {
				t.Errorf("%s: %q lacks %q", tt.name, w.String(), want)
			}
		}
	}
}
