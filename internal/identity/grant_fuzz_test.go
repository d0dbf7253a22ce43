package identity

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// fuzzGrantKey and fuzzGrantHash make the committed seed corpus's genuine
// grant file valid.
var (
	fuzzGrantKey  = bytes.Repeat([]byte{0x42}, 32)
	fuzzGrantHash = [32]byte{1, 2, 3}
)

// fuzzGenuineGrant is the one grant file that must be accepted.
func fuzzGenuineGrant() (grant, file []byte) {
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	grant, _ = json.Marshal(EmergencyGrant{Reason: "INC-1", CreatedAt: t, ExpiresAt: t.Add(time.Hour)})
	file, _ = json.Marshal(grantFile{Grant: grant, MAC: grantMAC(fuzzGrantKey, fuzzGrantHash, grant)})
	return grant, file
}

// FuzzReadGrant: whatever a grant file holds, ReadGrant accepts it only if
// it carries the genuine grant under its MAC, and never panics.
func FuzzReadGrant(f *testing.F) {
	grant, genuine := fuzzGenuineGrant()
	f.Add(genuine)
	f.Add(genuine[:len(genuine)/2])
	f.Add([]byte(`{"reason":"x","created_at":"2026-01-02T03:04:05Z","expires_at":"2099-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"grant":null,"mac":null}`))
	f.Add([]byte{})
	dir := f.TempDir()
	if err := os.MkdirAll(emergencyDir(dir), 0o700); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(GrantKeyPath(dir), fuzzGrantKey, 0o600); err != nil {
		f.Fatal(err)
	}
	path := EmergencyPath(dir, fuzzGrantHash)
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		g, err := ReadGrant(dir, fuzzGrantHash)
		if bytes.Equal(b, genuine) && err != nil {
			t.Fatalf("refused the genuine grant file: %v", err)
		}
		if err != nil {
			return
		}
		var gf grantFile
		if json.Unmarshal(b, &gf) != nil || !bytes.Equal(gf.Grant, grant) {
			t.Fatalf("accepted a grant file that does not carry the genuine grant: %q → %+v", b, g)
		}
	})
}

// fuzzGrantSeeds are the committed seed corpus's entries.
func fuzzGrantSeeds() map[string][]byte {
	grant, genuine := fuzzGenuineGrant()
	edited := bytes.Replace(genuine, []byte("04:05Z"), []byte("04:06Z"), 1)
	copied, _ := json.Marshal(grantFile{Grant: grant, MAC: grantMAC(fuzzGrantKey, [32]byte{9}, grant)})
	return map[string][]byte{
		"genuine":   genuine,
		"truncated": genuine[:len(genuine)-7],
		"edited":    edited,
		"copied":    copied,
		"nomac":     grant,
	}
}

// TestFuzzGrantSeedsCommitted keeps the committed seed corpus in step with
// fuzzGrantSeeds (regenerate with TETHER_WRITE_SEEDS=1).
func TestFuzzGrantSeedsCommitted(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReadGrant")
	for name, b := range fuzzGrantSeeds() {
		p := filepath.Join(dir, name)
		want := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if os.Getenv("TETHER_WRITE_SEEDS") == "1" {
			os.MkdirAll(dir, 0o755)
			if err := os.WriteFile(p, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := os.ReadFile(p); err != nil || string(got) != want {
			t.Errorf("%s is missing or stale (%v); regenerate with TETHER_WRITE_SEEDS=1", p, err)
		}
	}
}
