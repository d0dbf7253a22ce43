package trust

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that the decoder never panics and that whatever it
// accepts is canonical: re-encoding gives back the input exactly. Its
// seed corpus is testdata/fuzz/FuzzDecode, which plain go test runs.
func FuzzDecode(f *testing.F) {
	root := verifiedRoot(f, 1, testKey(0))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := Decode(raw)
		if err != nil {
			return
		}
		if !bytes.Equal(d.Encode(), raw) {
			t.Fatalf("accepted a non-canonical encoding")
		}
		body, err := BodyOf[Body](d)
		if err != nil {
			t.Fatalf("decoded document's body does not parse: %v", err)
		}
		again, err := encodeBody(body)
		if err != nil || !bytes.Equal(again, d.Body) {
			t.Fatalf("body does not re-encode to itself: %v", err)
		}
		_ = root.Verify(d, tNow)
		_, _, _ = VerifyRevocation(root, raw, tNow)
	})
}

// FuzzOpenKey checks that no key file header makes the decoder panic or
// run scrypt with parameters out of bounds.
func FuzzOpenKey(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte) {
		if k, err := openKey(raw, []byte("passphrase")); err == nil && k == nil {
			t.Fatal("nil key without an error")
		}
	})
}

// TestWriteFuzzCorpus regenerates the committed seed corpora with
// -update-kat: every known-answer document, some damaged copies, and one
// key file.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*updateKAT {
		t.Skip("only with -update-kat")
	}
	vectors := katVectors(t)
	for _, kind := range []string{"root", "root-change", "policy", "revocation", "tech-cert"} {
		var doc []byte
		for _, f := range vectors[kind] {
			if f.name == "document" {
				doc, _ = hex.DecodeString(f.value)
			}
		}
		writeCorpus(t, "FuzzDecode", kind, doc)
		writeCorpus(t, "FuzzDecode", kind+"-truncated", doc[:len(doc)/2])
		unsigned := append([]byte(nil), doc[:len(doc)-1-countSigs(doc)*signedEntrySize]...)
		writeCorpus(t, "FuzzDecode", kind+"-unsigned", append(unsigned, 0))
	}
	writeCorpus(t, "FuzzDecode", "empty", nil)
	key, err := sealKey(testKey(0), []byte("passphrase"), fastScrypt, bytes.NewReader(make([]byte, 64)))
	if err != nil {
		t.Fatal(err)
	}
	writeCorpus(t, "FuzzOpenKey", "valid", key)
	writeCorpus(t, "FuzzOpenKey", "header-only", key[:len(key)-SeedSize-16])
}

// countSigs is the signature count of an encoded document.
func countSigs(doc []byte) int {
	d, err := Decode(doc)
	if err != nil {
		return 0
	}
	return len(d.Signatures)
}

func writeCorpus(t *testing.T, fuzz, name string, b []byte) {
	dir := filepath.Join("testdata", "fuzz", fuzz)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
	if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
