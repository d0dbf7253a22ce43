package tech_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/tech"
)

// TestTrustRemoveAdmin: against a real relay, removing an administrator
// key is refused while it would leave fewer keys than the threshold, for
// a key the root does not hold and for the last key; otherwise the change
// is published and the root has one key fewer.
func TestTrustRemoveAdmin(t *testing.T) {
	b := newTestbed(t)
	ctx := context.Background()
	pass := tech.Passphrase{Ask: func(string) ([]byte, error) { return []byte("a long trust passphrase"), nil }}
	c := b.client(nil)
	if _, err := c.TrustInit(ctx, tech.TrustInitOptions{Passphrase: pass}); err != nil {
		t.Fatal(err)
	}
	bob, err := tech.New(filepath.Join(t.TempDir(), "bob"))
	if err != nil {
		t.Fatal(err)
	}
	bobPub, _, err := bob.TrustKey(pass)
	if err != nil {
		t.Fatal(err)
	}
	bobFile := filepath.Join(t.TempDir(), "bob.pub")
	if err := os.WriteFile(bobFile, []byte(tech.FormatAdminKey(bobPub)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TrustAddAdmin(ctx, tech.TrustAddAdminOptions{Key: bobFile, Passphrase: pass}); err != nil {
		t.Fatal(err)
	}
	bobID := bobPub.ID().String()
	for _, tc := range []struct {
		name, id  string
		threshold int
		want      string
	}{
		{"below the threshold", bobID, 2, "would leave 1 administrator keys, fewer than the threshold of 2"},
		{"unknown key", strings.Repeat("ab", 32), 0, "not an administrator key"},
		{"short prefix", bobID[:4], 0, "at least 8 digits"},
	} {
		out, err := c.TrustRemoveAdmin(ctx, tech.TrustRemoveAdminOptions{KeyID: tc.id, Threshold: tc.threshold, Passphrase: pass})
		if err == nil || !strings.Contains(err.Error(), tc.want) || out.Published != nil {
			t.Errorf("%s: %+v, %v; want an error saying %q", tc.name, out, err, tc.want)
		}
	}
	out, err := c.TrustRemoveAdmin(ctx, tech.TrustRemoveAdminOptions{KeyID: bobID[:10], Passphrase: pass})
	if err != nil || out.Published == nil || out.Published.Admins != 1 || out.Published.Threshold != 1 {
		t.Fatalf("removing bob: %+v, %v", out.Published, err)
	}
	shown, err := c.TrustShow(ctx)
	if err != nil || len(shown.Root.Body.Admins) != 1 || shown.Root.Body.Admins[0].ID() == bobPub.ID() {
		t.Fatalf("root after removing bob: %+v, %v", shown.Root, err)
	}
	last := shown.Root.Body.Admins[0].ID().String()
	if _, err := c.TrustRemoveAdmin(ctx, tech.TrustRemoveAdminOptions{KeyID: last, Passphrase: pass}); err == nil || !strings.Contains(err.Error(), "only administrator key") {
		t.Errorf("removing the last key: %v", err)
	}
}
