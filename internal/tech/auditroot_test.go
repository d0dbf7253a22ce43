package tech

import (
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/trust"
)

// TestCheckCheckpointsKeys: which checkpoints are checked and required.
// The log is empty, so every checkpoint checked fails to be covered.
func TestCheckCheckpointsKeys(t *testing.T) {
	key := func(b byte) *trust.PrivateKey {
		var seed [trust.SeedSize]byte
		seed[0] = b
		return trust.NewKeyFromSeed(seed)
	}
	rootAdmin, other, required := key(1), key(2), key(3)
	root := &trust.Root{Body: &trust.RootBody{Admins: []*trust.PublicKey{rootAdmin.Public()}}}
	head := &audit.SignedHead{Seq: 5, Hash: make([]byte, 32), Time: time.Unix(1, 0), Sig: make([]byte, 64)}
	sign := func(k *trust.PrivateKey) *audit.Countersigned {
		cs, err := audit.Countersign(head, k)
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	tests := []struct {
		name    string
		keys    checkpointKeys
		signers []*trust.PrivateKey
		wantErr string // "" for success
	}{
		{"no keys, nothing checked", checkpointKeys{}, []*trust.PrivateKey{rootAdmin}, ""},
		{"root admin checkpoint checked", checkpointKeys{root: root}, []*trust.PrivateKey{rootAdmin}, "trust-root administrator key"},
		{"unknown signer ignored", checkpointKeys{root: root}, []*trust.PrivateKey{other}, ""},
		{"root pinned, none served", checkpointKeys{root: root}, nil, ""},
		{"required key, none served", checkpointKeys{required: []*trust.PublicKey{required.Public()}, root: root}, []*trust.PrivateKey{rootAdmin, other}, "trust-root administrator key"},
		{"required key missing", checkpointKeys{required: []*trust.PublicKey{required.Public()}}, []*trust.PrivateKey{other}, "no checkpoint countersigned by the given"},
		{"required key checked", checkpointKeys{required: []*trust.PublicKey{required.Public()}}, []*trust.PrivateKey{required}, "countersigned by admin key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := &audit.ExportLog{}
			for _, k := range tt.signers {
				x.Countersigned = append(x.Countersigned, sign(k))
			}
			err := checkCheckpoints(x, tt.keys, &AuditReport{})
			if tt.wantErr == "" && err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
