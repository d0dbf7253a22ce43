package trust

import (
	"crypto/sha512"
	"strconv"
	"testing"
	"time"
)

// Fixed times every test document uses.
var (
	tIssued = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tExpiry = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	tNow    = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
)

// testKey is deterministic key number i: its seed is
// SHA-512("tether trust test key " + decimal i) (FORMAT.md §7).
func testKey(i int) *PrivateKey {
	return NewKeyFromSeed(sha512.Sum512([]byte("tether trust test key " + strconv.Itoa(i))))
}

// testPolicy is the fixed policy body of the known-answer vectors.
func testPolicy() *PolicyBody {
	return &PolicyBody{
		Recipients:  []string{"tether-rec1-alice", "tether-rec1-bob"},
		RecordInput: true,
		Ceilings: []RoleCeiling{
			{Role: "admin", Capabilities: []string{"clipboard", "files", "shell", "unattended"}},
			{Role: "tech", Capabilities: []string{"clipboard", "shell"}},
		},
		UnattendedGroups: []string{"kiosks"},
		IdleSeconds:      900,
		AbsoluteSeconds:  14400,
		DirectPath:       false,
	}
}

// mustRoot builds a root body over keys with threshold.
func mustRoot(t testing.TB, org string, threshold uint8, keys ...*PrivateKey) *RootBody {
	t.Helper()
	var pubs []*PublicKey
	for _, k := range keys {
		pubs = append(pubs, k.Public())
	}
	rb, err := NewRootBody(org, threshold, pubs...)
	if err != nil {
		t.Fatal(err)
	}
	return rb
}

// signedDoc builds body into a document signed by signers.
func signedDoc(t testing.TB, body Body, version uint64, expiry time.Time, signers ...*PrivateKey) *Document {
	t.Helper()
	d, err := NewDocument(body, version, tIssued, expiry)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sign(signers...); err != nil {
		t.Fatal(err)
	}
	return d
}

// verifiedRoot is a verified root over keys with threshold, signed by all.
func verifiedRoot(t testing.TB, threshold uint8, keys ...*PrivateKey) *Root {
	t.Helper()
	d := signedDoc(t, mustRoot(t, "Example Hospital", threshold, keys...), 1, time.Time{}, keys...)
	r, err := VerifyRoot(d.Encode(), tNow)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
