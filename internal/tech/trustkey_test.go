package tech

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tether-support/tether/internal/trust"
)

// TestAdminKeyText: what `tech trust key` prints is read back by
// `tech trust init --admin` and `tech audit verify --admin-key`.
func TestAdminKeyText(t *testing.T) {
	k, err := trust.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pub")
	os.WriteFile(good, []byte(FormatAdminKey(k.Public())+"\n"), 0o600)
	got, err := readAdminKeyFile(good)
	if err != nil || !got.Equal(k.Public()) {
		t.Fatalf("round trip: %v", err)
	}
	for _, bad := range []string{"", "tether-rec1-abc", "AAAA"} {
		f := filepath.Join(dir, "bad.pub")
		os.WriteFile(f, []byte(bad), 0o600)
		if _, err := readAdminKeyFile(f); err == nil {
			t.Errorf("%q accepted as an administrator key", bad)
		}
	}
}
