package audit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/trust"
)

// adminKey is a deterministic administrator key.
func adminKey(b byte) *trust.PrivateKey {
	var seed [trust.SeedSize]byte
	for i := range seed {
		seed[i] = b
	}
	return trust.NewKeyFromSeed(seed)
}

// exportWithTrailer exports f's whole log as JSONL with a trailer holding
// its signed head, head key and the countersigned checkpoints cs.
func exportWithTrailer(t *testing.T, f *fixture, since time.Time, cs ...*audit.Countersigned) string {
	t.Helper()
	head, err := audit.LoadHead(f.db)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := audit.Export(f.db, &buf, audit.FormatJSONL, since); err != nil {
		t.Fatal(err)
	}
	if err := audit.WriteTrailer(&buf, &audit.Trailer{HeadKey: f.log.HeadKey(), Head: head, Countersigned: cs}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func readExport(t *testing.T, s string) *audit.ExportLog {
	t.Helper()
	x, err := audit.ReadExport(strings.NewReader(s))
	if err != nil {
		t.Fatalf("ReadExport: %v", err)
	}
	return x
}

func TestSignedHeadVerify(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 3)
	h, err := audit.LoadHead(f.db)
	if err != nil || h == nil {
		t.Fatalf("LoadHead: %v %v", h, err)
	}
	if err := h.VerifyHead(f.pub); err != nil {
		t.Fatalf("VerifyHead: %v", err)
	}
	if err := h.VerifyCheckpoint(f.pub); err == nil {
		t.Error("a head verified as a prune checkpoint")
	}
	if !bytes.Equal(f.log.HeadKey(), f.pub) {
		t.Error("HeadKey is not the signer's public key")
	}
	bad := *h
	bad.Seq++
	if err := bad.VerifyHead(f.pub); err == nil {
		t.Error("a head with another seq verified")
	}
}

func TestDecodeHead(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 2)
	h, _ := audit.LoadHead(f.db)
	good, _ := json.Marshal(h)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"valid", string(good), true},
		{"unknown field", strings.Replace(string(good), `{`, `{"x":1,`, 1), false},
		{"trailing data", string(good) + "{}", false},
		{"seq zero", strings.Replace(string(good), `"seq":2`, `"seq":0`, 1), false},
		{"short hash", `{"seq":1,"hash":"AAAA","time":"2026-01-01T00:00:00Z","sig":"` + strings.Repeat("A", 86) + `=="}`, false},
		{"no signature", `{"seq":1,"hash":"` + strings.Repeat("A", 43) + `=","time":"2026-01-01T00:00:00Z"}`, false},
		{"too long", `{"seq":1,"hash":"` + strings.Repeat(" ", 2000) + `"}`, false},
		{"not json", `seq=1`, false},
	}
	for _, tt := range tests {
		got, err := audit.DecodeHead([]byte(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("%s: DecodeHead error %v, want ok=%v", tt.name, err, tt.ok)
		}
		if tt.ok && (got.Seq != h.Seq || !bytes.Equal(got.Hash, h.Hash) || got.VerifyHead(f.pub) != nil) {
			t.Errorf("%s: decoded %+v, want %+v", tt.name, got, h)
		}
	}
}

func TestCountersign(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 3)
	h, _ := audit.LoadHead(f.db)
	k := adminKey(7)
	cs, err := audit.Countersign(h, k)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := cs.Verify()
	if err != nil || !pub.Equal(k.Public()) {
		t.Fatalf("Verify: %v %v", pub, err)
	}
	b, _ := json.Marshal(cs)
	back, err := audit.DecodeCountersigned(b)
	if err != nil {
		t.Fatalf("DecodeCountersigned: %v", err)
	}
	if _, err := back.Verify(); err != nil {
		t.Fatalf("Verify after round trip: %v", err)
	}
	tampers := map[string]func(c *audit.Countersigned){
		"seq":       func(c *audit.Countersigned) { c.Seq++ },
		"hash":      func(c *audit.Countersigned) { c.Hash = bytes.Repeat([]byte{1}, 32) },
		"time":      func(c *audit.Countersigned) { c.Time = c.Time.Add(time.Second) },
		"ed25519":   func(c *audit.Countersigned) { c.Ed25519 = bytes.Clone(c.Ed25519); c.Ed25519[0] ^= 1 },
		"mldsa":     func(c *audit.Countersigned) { c.MLDSA = bytes.Clone(c.MLDSA); c.MLDSA[9] ^= 1 },
		"other key": func(c *audit.Countersigned) { c.AdminKey = adminKey(8).Public().Bytes() },
		"bad key":   func(c *audit.Countersigned) { c.AdminKey = c.AdminKey[:10] },
	}
	for name, fn := range tampers {
		c := *cs
		fn(&c)
		if _, err := c.Verify(); err == nil {
			t.Errorf("countersignature with a changed %s verified", name)
		}
	}
	if _, err := audit.DecodeCountersigned(append(b, "{}"...)); err == nil {
		t.Error("DecodeCountersigned accepted trailing data")
	}
}

func TestExportExtends(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 4)
	old, _ := audit.LoadHead(f.db)
	cs, _ := audit.Countersign(old, adminKey(1))
	first := readExport(t, exportWithTrailer(t, f, time.Time{}, cs))
	if first.Entries() != 4 || first.Head.Seq != 4 || len(first.Countersigned) != 1 {
		t.Fatalf("read back %d entries, head %d, %d checkpoints", first.Entries(), first.Head.Seq, len(first.Countersigned))
	}
	f.appendN(t, 3)
	later := readExport(t, exportWithTrailer(t, f, time.Time{}, cs))
	for _, p := range []*audit.SignedHead{old, first.Head, cs.Head(), later.Head} {
		if err := later.Extends(p); err != nil {
			t.Errorf("Extends(head at %d): %v", p.Seq, err)
		}
	}
	forged := *old
	forged.Hash = bytes.Repeat([]byte{9}, 32)
	wantVerifyError(t, later.Extends(&forged), 4)
	ahead := *later.Head
	ahead.Seq = 9
	wantVerifyError(t, later.Extends(&ahead), 8)
	partial := readExport(t, exportWithTrailer(t, f, t0.Add(6*time.Hour)))
	if err := partial.Extends(old); !errors.Is(err, audit.ErrNotCovered) {
		t.Errorf("Extends(head before the export): got %v, want ErrNotCovered", err)
	}
}

func TestExportTrailerErrors(t *testing.T) {
	f := newFixture(t)
	f.appendN(t, 3)
	good := exportWithTrailer(t, f, time.Time{})
	lines := strings.SplitAfter(strings.TrimSuffix(good, "\n"), "\n")
	entries, trailer := strings.Join(lines[:3], ""), lines[3]
	if !strings.HasPrefix(trailer, `{"record":"head"`) {
		t.Fatalf("trailer line is %q", trailer)
	}
	otherKey := newFixture(t).log.HeadKey()
	var tl struct{ Point audit.SignedHead }
	if err := json.Unmarshal([]byte(trailer), &tl); err != nil {
		t.Fatal(err)
	}
	h := tl.Point
	withHead := func(key []byte, p audit.SignedHead) string {
		var buf bytes.Buffer
		audit.WriteTrailer(&buf, &audit.Trailer{HeadKey: key, Head: &p})
		return buf.String()
	}
	beyond := h
	beyond.Seq = 5
	tests := []struct {
		name string
		in   string
	}{
		{"head under another key", entries + withHead(otherKey, h)},
		{"entry after the trailer", entries + trailer + lines[0]},
		{"head twice", entries + trailer + trailer},
		{"unknown record", entries + `{"record":"gossip"}` + "\n"},
		{"head past the last entry", entries + withHead(f.log.HeadKey(), beyond)},
		{"entries dropped before the head", strings.Join(lines[:2], "") + trailer},
	}
	for _, tt := range tests {
		if err := audit.VerifyExport(strings.NewReader(tt.in)); err == nil {
			t.Errorf("%s: VerifyExport accepted it", tt.name)
		}
	}
	if err := audit.VerifyExport(strings.NewReader(good)); err != nil {
		t.Errorf("VerifyExport(good): %v", err)
	}
}
