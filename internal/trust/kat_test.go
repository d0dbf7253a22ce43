package trust

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// updateKAT rewrites testdata/kat from the code instead of checking it:
// go test ./internal/trust -run TestKnownAnswers -update-kat
var updateKAT = flag.Bool("update-kat", false, "rewrite the known-answer vectors in testdata/kat")

// katField is one "name = value" line of a vector file.
type katField struct{ name, value string }

// katVectors are the vector files and their fields, built from the code.
func katVectors(t testing.TB) map[string][]katField {
	v := map[string][]katField{}
	var keys []katField
	for i := range 6 {
		k := testKey(i)
		seed := k.Seed()
		keys = append(keys,
			katField{fmt.Sprintf("key-%d-seed", i), hex.EncodeToString(seed[:])},
			katField{fmt.Sprintf("key-%d-public", i), hex.EncodeToString(k.Public().Bytes())},
			katField{fmt.Sprintf("key-%d-id", i), k.Public().ID().String()})
	}
	v["keys"] = keys
	msg := []byte("tether hybrid signature test vector")
	sig, err := testKey(0).Sign("example", msg)
	if err != nil {
		t.Fatal(err)
	}
	v["hybrid"] = []katField{{"key", "0"}, {"label", "example"}, {"message", hex.EncodeToString(msg)},
		{"ed25519-signed", hex.EncodeToString(edMessage([]byte(labelPrefix+"example"), msg))},
		{"ed25519", hex.EncodeToString(sig.Ed25519)}, {"mldsa65", hex.EncodeToString(sig.MLDSA)}}
	v["tech-auth"] = techAuthVector(t)
	for _, kd := range katDocuments(t) {
		fields := []katField{{"signers", kd.signers}, {"body", hex.EncodeToString(kd.doc.Body)},
			{"signed-bytes", hex.EncodeToString(kd.doc.SignedBytes())}, {"document", hex.EncodeToString(kd.doc.Encode())}}
		if kd.extra.name != "" {
			fields = append(fields, kd.extra)
		}
		v[kd.doc.Kind.String()] = fields
	}
	return v
}

// techAuthVector is key 5's session proof for the tech-cert vector's
// certificate over a fixed exporter and session ID.
func techAuthVector(t testing.TB) []katField {
	var cert *Document
	for _, kd := range katDocuments(t) {
		if kd.doc.Kind == KindTechCert {
			cert = kd.doc
		}
	}
	exp := sha256.Sum256([]byte("tether tech-auth test exporter"))
	sid := []byte("0123456789abcdef")
	sig, err := SignTechAuth(testKey(5), cert, exp[:], sid)
	if err != nil {
		t.Fatal(err)
	}
	return []katField{{"key", "5"}, {"exporter", hex.EncodeToString(exp[:])}, {"session-id", hex.EncodeToString(sid)},
		{"cert-id", CertID(cert).String()}, {"message", hex.EncodeToString(TechAuthMessage(exp[:], sid, CertID(cert)))},
		{"ed25519", hex.EncodeToString(sig.Ed25519)}, {"mldsa65", hex.EncodeToString(sig.MLDSA)}}
}

// katDoc is one fixed document of the vectors.
type katDoc struct {
	doc     *Document
	signers string
	extra   katField
}

// katDocuments are the fixed documents: a 2-of-3 root over keys 0-2 and
// one document of every other kind signed under it.
func katDocuments(t testing.TB) []katDoc {
	k := func(i ...int) []*PrivateKey {
		var out []*PrivateKey
		for _, n := range i {
			out = append(out, testKey(n))
		}
		return out
	}
	root := mustRoot(t, "Example Hospital", 2, k(0, 1, 2)...)
	fp, _ := root.Fingerprint()
	cert := signedDoc(t, &TechCertBody{Name: "Alice Example", Username: "alice", Org: "Example Hospital",
		Capabilities: []string{"clipboard", "files", "shell"}, DeviceGroups: []string{"ward-3", "ward-4"},
		Key: testKey(5).Public()}, 1, tIssued.Add(7*24*time.Hour), k(0, 1)...)
	revoked := []KeyID{CertID(cert), sha256.Sum256([]byte("reviewer"))}
	slices.SortFunc(revoked, func(a, b KeyID) int { return bytes.Compare(a[:], b[:]) })
	return []katDoc{
		{signedDoc(t, root, 1, time.Time{}, k(0, 1)...), "0 1", katField{"fingerprint", fp.String()}},
		{signedDoc(t, &RootChangeBody{Previous: fp, New: mustRoot(t, "Example Hospital", 2, k(0, 1, 2, 3)...)},
			2, time.Time{}, k(0, 2)...), "0 2", katField{}},
		{signedDoc(t, testPolicy(), 5, tExpiry, k(0, 1)...), "0 1", katField{}},
		{signedDoc(t, &RevocationBody{TechCerts: revoked[:1], ReviewerKeys: revoked[1:], AdminKeys: []KeyID{testKey(4).Public().ID()}},
			3, tExpiry, k(1, 2)...), "1 2", katField{}},
		{cert, "0 1", katField{"cert-id", CertID(cert).String()}},
	}
}

func TestKnownAnswers(t *testing.T) {
	dir := filepath.Join("testdata", "kat")
	for name, fields := range katVectors(t) {
		path := filepath.Join(dir, name+".txt")
		if *updateKAT {
			writeKAT(t, path, fields)
			continue
		}
		got := readKAT(t, path)
		for _, f := range fields {
			if got[f.name] != f.value {
				t.Errorf("%s: %s differs from the committed vector", path, f.name)
			}
		}
		if len(got) != len(fields) {
			t.Errorf("%s: %d fields, want %d", path, len(got), len(fields))
		}
	}
}

// TestKnownAnswerDocumentsVerify checks the committed bytes, not the
// code's, against the committed root.
func TestKnownAnswerDocumentsVerify(t *testing.T) {
	t.Parallel()
	raw := func(kind string) []byte {
		b, err := hex.DecodeString(readKAT(t, filepath.Join("testdata", "kat", kind+".txt"))["document"])
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	root, err := VerifyRoot(raw("root"), tNow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := root.ApplyChange(raw("root-change"), tNow); err != nil {
		t.Error(err)
	}
	if _, _, err := Open[*PolicyBody](root, raw("policy"), tNow); err != nil {
		t.Error(err)
	}
	if _, _, err := Open[*RevocationBody](root, raw("revocation"), tNow); err != nil {
		t.Error(err)
	}
	if _, _, err := Open[*TechCertBody](root, raw("tech-cert"), tIssued.Add(time.Hour)); err != nil {
		t.Error(err)
	}
}

func writeKAT(t testing.TB, path string, fields []katField) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Tether trust known-answer vector (see FORMAT.md §7). Hex unless noted.\n")
	for _, f := range fields {
		fmt.Fprintf(&b, "%s = %s\n", f.name, f.value)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readKAT(t testing.TB, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (regenerate with -update-kat)", err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, " = ")
		if !ok {
			t.Fatalf("%s: bad line %q", path, line)
		}
		out[name] = value
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
