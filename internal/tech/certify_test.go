package tech

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/trust"
)

func TestCertDocument(t *testing.T) {
	admin, _ := trust.GenerateKey(nil)
	techKey, _ := trust.GenerateKey(nil)
	rb, err := trust.NewRootBody("Example Hospital", 1, admin.Public())
	if err != nil {
		t.Fatal(err)
	}
	root := &trust.Root{Body: rb}
	now := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		facts   api.CertifyFacts
		wantErr string
	}{
		{"unsorted, repeated lists", api.CertifyFacts{Username: "alice", DisplayName: "Alice", Key: techKey.Public().Bytes(),
			Capabilities: []string{"shell", "files", "shell"}, DeviceGroups: []string{"ward-4", "ward-3"}}, ""},
		{"a malformed key", api.CertifyFacts{Username: "alice", Key: []byte("short")}, "alice's key from the relay"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := certDocument(root, tc.facts, now, DefaultCertValidity)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("certDocument error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			cert, err := trust.BodyOf[*trust.TechCertBody](d)
			if err != nil {
				t.Fatal(err)
			}
			if cert.Org != "Example Hospital" || !slices.Equal(cert.Capabilities, []string{"files", "shell"}) ||
				!slices.Equal(cert.DeviceGroups, []string{"ward-3", "ward-4"}) || !cert.Key.Equal(techKey.Public()) {
				t.Errorf("certificate = %+v", cert)
			}
			if !d.Expiry.Equal(now.Add(7*24*time.Hour)) || d.Version != uint64(now.Unix()) {
				t.Errorf("expiry %v version %d", d.Expiry, d.Version)
			}
		})
	}
}

// TestTechKeyFile: the key is made once (0600) and read back the same; a
// file others can read is refused.
func TestTechKeyFile(t *testing.T) {
	c := &Client{Home: filepath.Join(t.TempDir(), "tech")}
	k1, err := c.techKey()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(c.techKeyPath())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	k2, err := c.techKey()
	if err != nil || !k2.Public().Equal(k1.Public()) {
		t.Fatalf("second load: %v, same key %v", err, err == nil && k2.Public().Equal(k1.Public()))
	}
	os.Chmod(c.techKeyPath(), 0o644)
	if _, err := c.techKey(); err == nil || !strings.Contains(err.Error(), "readable by others") {
		t.Fatalf("a 0644 key file: %v", err)
	}
}
