package audit_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tether-support/tether/internal/audit"
)

// FuzzDecodeHead checks that DecodeHead never panics and that what it
// accepts is well formed and survives a round trip.
func FuzzDecodeHead(f *testing.F) {
	f.Add([]byte(`{"seq":1,"hash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","time":"2026-01-01T00:00:00Z","sig":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, err := audit.DecodeHead(raw)
		if err != nil {
			return
		}
		if h.Seq == 0 || len(h.Hash) != 32 || len(h.Sig) != 64 {
			t.Fatalf("accepted a malformed head: %+v", h)
		}
		b, err := json.Marshal(h)
		if err != nil {
			t.Fatal(err)
		}
		back, err := audit.DecodeHead(b)
		if err != nil || back.Seq != h.Seq || !bytes.Equal(back.Hash, h.Hash) || !bytes.Equal(back.Sig, h.Sig) {
			t.Fatalf("round trip: %+v, %v", back, err)
		}
	})
}

// FuzzDecodeCountersigned checks that decoding and verifying an uploaded
// checkpoint never panics and never accepts a malformed one.
func FuzzDecodeCountersigned(f *testing.F) {
	f.Add([]byte(`{"seq":1,"hash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=","time":"2026-01-01T00:00:00Z","admin_key":"AQ==","ed25519":"","mldsa":""}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		c, err := audit.DecodeCountersigned(raw)
		if err != nil {
			return
		}
		if c.Seq == 0 || len(c.Hash) != 32 {
			t.Fatalf("accepted a malformed checkpoint: %+v", c)
		}
		if pub, err := c.Verify(); err == nil && pub == nil {
			t.Fatal("verified without a key")
		}
	})
}

// FuzzExportReader checks that reading an export line by line never
// panics, whatever the lines are.
func FuzzExportReader(f *testing.F) {
	f.Add([]byte(`{"record":"head","head_key":"AA==","point":{"seq":1}}`), []byte(`{"seq":1}`))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		var x audit.ExportReader
		for _, line := range [][]byte{a, b} {
			if x.Line(line) != nil {
				return
			}
		}
		x.Finish()
	})
}
