package trust

import "testing"

// BenchmarkSignPolicy signs one policy document with one administrator key.
func BenchmarkSignPolicy(b *testing.B) {
	k := testKey(0)
	d, err := NewDocument(testPolicy(), 1, tIssued, tExpiry)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		d.Signatures = nil
		if err := d.Sign(k); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyPolicy decodes and verifies one signed policy document
// against a threshold-1 root, as an agent does per session.
func BenchmarkVerifyPolicy(b *testing.B) {
	k := testKey(0)
	root := verifiedRoot(b, 1, k)
	raw := signedDoc(b, testPolicy(), 1, tExpiry, k).Encode()
	for b.Loop() {
		if _, _, err := Open[*PolicyBody](root, raw, tNow); err != nil {
			b.Fatal(err)
		}
	}
}
