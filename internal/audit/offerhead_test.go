package audit_test

import (
	"testing"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/protocol"
)

// TestHeadVerifiesAsProtocolAuditHead: a head the log signs verifies as
// the protocol's AuditHead (what agents check), and a changed field does
// not.
func TestHeadVerifiesAsProtocolAuditHead(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 3)
	h, err := audit.LoadHead(f.db)
	if err != nil || h == nil {
		t.Fatalf("LoadHead: %v %v", h, err)
	}
	key := f.log.HeadKey()
	good := protocol.AuditHead{Key: key, Seq: h.Seq, Hash: h.Hash, Time: h.Time, Sig: h.Sig}
	if err := good.Verify(key); err != nil {
		t.Fatalf("a signed head does not verify: %v", err)
	}
	tests := []struct {
		name string
		edit func(*protocol.AuditHead)
	}{
		{"seq", func(a *protocol.AuditHead) { a.Seq++ }},
		{"hash", func(a *protocol.AuditHead) { a.Hash = append([]byte{}, a.Hash...); a.Hash[0] ^= 1 }},
		{"time", func(a *protocol.AuditHead) { a.Time = a.Time.Add(1) }},
		{"short hash", func(a *protocol.AuditHead) { a.Hash = a.Hash[:31] }},
		{"zero seq", func(a *protocol.AuditHead) { a.Seq = 0 }},
	}
	for _, tt := range tests {
		a := good
		tt.edit(&a)
		if err := a.Verify(key); err == nil {
			t.Errorf("%s changed: still verifies", tt.name)
		}
	}
}
