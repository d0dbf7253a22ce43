package recordings

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateKAT = flag.Bool("update-kat", false, "regenerate testdata/kat and the fuzz seed corpora (changes the pinned format vectors!)")

// katDir holds the identity and the frozen version 1 vector; katDirs the
// vector of each version, by version number.
const katDir = "testdata/kat"

var katDirs = map[int]string{1: katDir, 2: "testdata/kat-v2"}

// katValues lists intermediate values of the known-answer recording, in the
// order they are written to testdata/kat/values.txt.
func katValues(t testing.TB, ct []byte, id *Identity) []string {
	t.Helper()
	raw, err := parseHeader(bytes.NewReader(ct))
	if err != nil {
		t.Fatalf("parseHeader: %v", err)
	}
	fileKey, err := openHeader(raw, []*Identity{id})
	if err != nil {
		t.Fatalf("openHeader: %v", err)
	}
	hh := raw.hash()
	return []string{
		"key id: " + hex.EncodeToString(id.rcpt.id[:]),
		"file key: " + hex.EncodeToString(fileKey),
		"header mac key: " + hex.EncodeToString(deriveKey(fileKey, nil, raw.ver.header)),
		"header hash: " + hex.EncodeToString(hh[:]),
		"payload key: " + hex.EncodeToString(deriveKey(fileKey, hh[:], raw.ver.payload)),
		fmt.Sprintf("header length: %d", len(raw.signed)+len(raw.mac)),
	}
}

func readKATIdentity(t testing.TB) *Identity {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(katDir, "identity.txt"))
	if err != nil {
		t.Fatal(err)
	}
	id, err := parseIdentityFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	return readKATFile(t, katDir, name)
}

func readKATFile(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKAT pins the format: a recording generated once must keep decrypting
// to the same plaintext with the same intermediate values.
func TestKAT(t *testing.T) {
	if *updateKAT {
		generateKAT(t)
	}
	for _, v := range formats {
		t.Run(fmt.Sprintf("v%d", v.n), func(t *testing.T) { testKAT(t, v.n, katDirs[v.n]) })
	}
}

// testKAT checks the vector in dir, of format version n.
func testKAT(t *testing.T, n int, dir string) {
	id := readKATIdentity(t)
	ct := readKATFile(t, dir, "recording.bin")
	want := readKATFile(t, dir, "plaintext.txt")
	r, err := NewReader(bytes.NewReader(ct), id)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	if r.Header().Version != n || r.Header().SessionID != testSession || !r.Header().Created.Equal(testCreated) {
		t.Errorf("got header %+v, want session %x created %v", r.Header(), testSession, testCreated)
	}
	got, err := decrypt(ct, id)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("got plaintext %q, want %q", got, want)
	}
	if _, n, err := ParseCast(bytes.NewReader(got)); err != nil || n == 0 {
		t.Errorf("ParseCast(KAT plaintext): got %d events, %v; want >0 events, nil", n, err)
	}
	wantValues := strings.Split(strings.TrimSpace(string(readKATFile(t, dir, "values.txt"))), "\n")
	for i, v := range katValues(t, ct, id) {
		if i >= len(wantValues) || v != wantValues[i] {
			t.Errorf("got %q, want line %d of values.txt", v, i+1)
		}
	}
}

func katPlaintext(t testing.TB) []byte {
	var buf bytes.Buffer
	start := time.Unix(testCreated.Unix(), 0)
	cw, err := NewCastWriter(&buf, CastHeader{Width: 80, Height: 24, Timestamp: start.Unix(),
		Env: map[string]string{"TERM": "xterm-256color", "SHELL": "/bin/bash"}, Title: "KAT"}, start)
	if err != nil {
		t.Fatal(err)
	}
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	cw.Output(at(10), []byte("user@host:~$ "))
	cw.Input(at(500), []byte("echo héllo 😀\r"))
	cw.Output(at(510), []byte("echo héllo 😀\r\nhéllo 😀\r\n"))
	cw.Resize(at(900), 120, 40)
	cw.Marker(at(1000), "checkpoint")
	cw.Output(at(1500), []byte(strings.Repeat("\x1b[32mgreen\x1b[0m ", 40)+"\r\n"))
	return buf.Bytes()
}

// generateKAT writes the current version's vector (with the identity in
// testdata/kat, which stays fixed) and the fuzz seed corpora. The plaintext
// is written in three flushed pieces so the vector has short non-final
// chunks as well as the final chunk. Earlier versions' vectors are frozen.
func generateKAT(t *testing.T) {
	id := readKATIdentity(t)
	pt := katPlaintext(t)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testSession, testCreated, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range [][]byte{pt[:100], pt[100:300], pt[300:]} {
		w.Write(part)
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ct := buf.Bytes()
	dir := katDirs[formatCurrent.n]
	os.MkdirAll(dir, 0o755)
	files := map[string][]byte{
		"recording.bin": ct,
		"plaintext.txt": pt,
		"values.txt":    []byte(strings.Join(katValues(t, ct, id), "\n") + "\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	generateFuzzSeeds(t, id, ct, pt)
}

func generateFuzzSeeds(t *testing.T, id *Identity, ct, pt []byte) {
	hl := headerLen(t, ct)
	seeds := map[string]map[string]string{
		"FuzzReadHeader": {
			"valid":     string(ct[:hl]),
			"truncated": string(ct[:hl/2]),
			"version3":  "tether-recording/v3\n" + string(ct[20:hl]),
			"zerocount": string(ct[:44]) + "\x00",
			"empty":     "",
		},
		"FuzzReader": {
			"valid":     string(ct[hl:]),
			"truncated": string(ct[hl : len(ct)-20]),
			"trailing":  string(ct[hl:]) + "x",
			"hugelen":   "\x7f\xff\xff\xff",
			"empty":     "",
		},
		"FuzzParseIdentity": {
			"valid":    id.String(),
			"spaces":   " " + id.String() + "\n",
			"badcheck": id.String()[:len(id.String())-1] + "A",
			"prefix":   IdentityPrefix,
		},
		"FuzzParseRecipient": {
			"valid":    id.Recipient().String(),
			"identity": id.String(),
			"prefix":   RecipientPrefix + "AAAA",
		},
		"FuzzParseCast": {
			"valid":    string(pt),
			"header":   `{"version": 2, "width": 80, "height": 24}` + "\n",
			"decrease": `{"version": 2, "width": 80, "height": 24}` + "\n[1.0, \"o\", \"a\"]\n[0.5, \"o\", \"b\"]\n",
			"resize":   `{"version": 2, "width": 80, "height": 24}` + "\n[1.0, \"r\", \"10x\"]\n",
		},
	}
	for fuzz, m := range seeds {
		dir := filepath.Join("testdata", "fuzz", fuzz)
		os.MkdirAll(dir, 0o755)
		for name, v := range m {
			typ := "[]byte"
			if strings.HasPrefix(fuzz, "FuzzParseI") || strings.HasPrefix(fuzz, "FuzzParseR") {
				typ = "string"
			}
			body := fmt.Sprintf("go test fuzz v1\n%s(%q)\n", typ, v)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestKeyIDIsHashPrefix checks the key ID definition against the KAT key.
func TestKeyIDIsHashPrefix(t *testing.T) {
	id := readKATIdentity(t)
	sum := sha256.Sum256(id.rcpt.bytes)
	if got, want := id.Recipient().KeyID(), [8]byte(sum[:8]); got != want {
		t.Errorf("got key ID %x, want %x", got, want)
	}
	rcpt := strings.TrimSpace(string(readTestdata(t, "recipient.txt")))
	if got := id.Recipient().String(); got != rcpt {
		t.Errorf("got recipient %s, want %s", got, rcpt)
	}
}
