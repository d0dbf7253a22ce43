package tech

import (
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/trust"
)

func TestReadAdminKeyFormats(t *testing.T) {
	var seed [trust.SeedSize]byte
	pub := trust.NewKeyFromSeed(seed).Public()
	dir := t.TempDir()
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"hex", []byte(hex.EncodeToString(pub.Bytes()) + "\n"), true},
		{"base64", []byte(base64.StdEncoding.EncodeToString(pub.Bytes())), true},
		{"raw", pub.Bytes(), true},
		{"truncated", pub.Bytes()[:100], false},
		{"garbage", []byte("not a key"), false},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		os.WriteFile(p, tt.data, 0o600)
		k, err := readAdminKey(p)
		if (err == nil) != tt.ok {
			t.Errorf("%s: error %v, want ok=%v", tt.name, err, tt.ok)
		}
		if tt.ok && !k.Equal(pub) {
			t.Errorf("%s: read another key", tt.name)
		}
	}
}

func TestRememberedHeadsFile(t *testing.T) {
	c := &Client{Home: filepath.Join(t.TempDir(), "tech")}
	heads, err := c.loadAuditHeads()
	if err != nil || len(heads) != 0 {
		t.Fatalf("no file: %v %v", heads, err)
	}
	heads["SHA256:ab"] = &rememberedHead{HeadKey: []byte{1, 2}, Head: &audit.SignedHead{Seq: 9, Hash: make([]byte, 32)}}
	if err := c.saveAuditHeads(heads); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(c.auditHeadsPath())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode: %v %v", fi, err)
	}
	back, err := c.loadAuditHeads()
	if err != nil || back["SHA256:ab"] == nil || back["SHA256:ab"].Head.Seq != 9 {
		t.Fatalf("read back %v, %v", back, err)
	}
	os.WriteFile(c.auditHeadsPath(), []byte("{"), 0o600)
	if _, err := c.loadAuditHeads(); err == nil {
		t.Error("a corrupt file was accepted")
	}
}
