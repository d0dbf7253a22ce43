package trust

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// testBodies is one valid body of every kind.
func testBodies(t testing.TB) []Body {
	root := mustRoot(t, "Example Hospital", 1, testKey(0))
	fp, _ := root.Fingerprint()
	return []Body{
		root,
		&RootChangeBody{Previous: fp, New: mustRoot(t, "Example Hospital", 2, testKey(0), testKey(1))},
		testPolicy(),
		&RevocationBody{TechCerts: []KeyID{{1}, {2}}, AdminKeys: []KeyID{{3}}},
		&TechCertBody{Name: "Alice Example", Username: "alice", Org: "Example Hospital",
			Capabilities: []string{"clipboard", "shell"}, DeviceGroups: []string{"ward-3"}, Key: testKey(5).Public()},
	}
}

func TestDocumentRoundTrip(t *testing.T) {
	t.Parallel()
	for _, body := range testBodies(t) {
		d := signedDoc(t, body, 7, tExpiry, testKey(0), testKey(1))
		raw := d.Encode()
		got, err := Decode(raw)
		if err != nil {
			t.Fatalf("%s: %v", body.Kind(), err)
		}
		if !bytes.Equal(got.Encode(), raw) {
			t.Fatalf("%s: re-encoding differs", body.Kind())
		}
		if got.Version != 7 || !got.Issued.Equal(tIssued) || !got.Expiry.Equal(tExpiry) || len(got.Signatures) != 2 {
			t.Fatalf("%s: envelope changed: %+v", body.Kind(), got)
		}
		back, err := BodyOf[Body](got)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := encodeBody(back)
		if !bytes.Equal(again, d.Body) {
			t.Fatalf("%s: body re-encoding differs", body.Kind())
		}
	}
}

func TestDecodeRefuses(t *testing.T) {
	t.Parallel()
	d := signedDoc(t, testPolicy(), 1, tExpiry, testKey(0), testKey(1))
	raw := d.Encode()
	sigStart := len(d.SignedBytes())
	withRaw := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), raw...)) }
	dup := &Document{Kind: d.Kind, Version: 1, Issued: d.Issued, Expiry: d.Expiry, Body: d.Body,
		Signatures: []Signed{d.Signatures[0], d.Signatures[0]}}
	swapped := &Document{Kind: d.Kind, Version: 1, Issued: d.Issued, Expiry: d.Expiry, Body: d.Body,
		Signatures: []Signed{d.Signatures[1], d.Signatures[0]}}
	noExpiry := *d
	noExpiry.Expiry = time.Time{}
	badBody := *d
	badBody.Body = append(append([]byte(nil), d.Body...), 0)
	tests := []struct {
		name string
		raw  []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"bad magic", withRaw(func(b []byte) []byte { b[0] = 'X'; return b }), "not a Tether signed document"},
		{"format version", withRaw(func(b []byte) []byte { b[3] = 2; return b }), "not a Tether signed document"},
		{"unknown kind", withRaw(func(b []byte) []byte { b[4] = 99; return b }), "unknown document kind 99"},
		{"trailing bytes", append(raw[:len(raw):len(raw)], 0), "1 trailing bytes"},
		{"truncated", raw[:len(raw)-1], "truncated"},
		{"duplicate signer", dup.Encode(), "duplicate signer"},
		{"unsorted signers", swapped.Encode(), "not sorted"},
		{"too many signers", withRaw(func(b []byte) []byte { b[sigStart] = MaxSigners + 1; return b }), "exceed the limit"},
		{"oversized", make([]byte, MaxDocumentSize+1), "exceed the limit"},
		{"policy without expiry", noExpiry.Encode(), "expiry is required"},
		{"body with trailing byte", badBody.Encode(), "policy body: 1 trailing bytes"},
		{"body length past end", withRaw(func(b []byte) []byte { b[4+1+8+8+8] = 0xff; return b }), "exceeds the limit"},
	}
	for _, tc := range tests {
		_, err := Decode(tc.raw)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to say %q", tc.name, err, tc.want)
		}
	}
	if _, err := Decode(dup.Encode()); !errors.Is(err, ErrDuplicateSigner) {
		t.Errorf("duplicate signer: err = %v, want ErrDuplicateSigner", err)
	}
}

func TestBodyRefusals(t *testing.T) {
	t.Parallel()
	p := testPolicy()
	p.Recipients = []string{"b", "a"}
	p2 := testPolicy()
	p2.Ceilings = append(p2.Ceilings, RoleCeiling{Role: "tech"})
	p3 := testPolicy()
	p3.IdleSeconds = 0
	tests := []struct {
		name string
		body Body
		want string
	}{
		{"unsorted recipients", p, "out of order"},
		{"repeated role", p2, "out of order"},
		{"zero idle limit", p3, "must be positive"},
		{"threshold above keys", &RootBody{Org: "o", Threshold: 2, Admins: []*PublicKey{testKey(0).Public()}}, "threshold 2"},
		{"threshold zero", &RootBody{Org: "o", Threshold: 0, Admins: []*PublicKey{testKey(0).Public()}}, "threshold 0"},
		{"no organisation", &RootBody{Threshold: 1, Admins: []*PublicKey{testKey(0).Public()}}, "organisation"},
		{"cert without key", &TechCertBody{Name: "a", Username: "a", Org: "o"}, "no technician key"},
		{"revocations unsorted", &RevocationBody{AdminKeys: []KeyID{{2}, {1}}}, "out of order"},
	}
	for _, tc := range tests {
		if _, err := NewDocument(tc.body, 1, tIssued, tExpiry); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to say %q", tc.name, err, tc.want)
		}
	}
	if _, err := NewDocument(testPolicy(), 1, tIssued, tIssued); err == nil {
		t.Error("expiry equal to issue time accepted")
	}
}

func TestBodyOfWrongKind(t *testing.T) {
	t.Parallel()
	d := signedDoc(t, testPolicy(), 1, tExpiry)
	if _, err := BodyOf[*RevocationBody](d); err == nil || !strings.Contains(err.Error(), "wrong document kind: got policy, want revocation") {
		t.Fatalf("err = %v", err)
	}
	got, err := BodyOf[*PolicyBody](d)
	if err != nil || !reflect.DeepEqual(got, testPolicy()) {
		t.Fatalf("policy body = %+v, %v", got, err)
	}
}

func TestFingerprint(t *testing.T) {
	t.Parallel()
	fp, err := mustRoot(t, "o", 1, testKey(0)).Fingerprint()
	if err != nil {
		t.Fatal(err)
	}
	s := fp.String()
	if !strings.HasPrefix(s, "SHA256:") || len(s) != 7+64 {
		t.Fatalf("fingerprint %q", s)
	}
	back, err := ParseFingerprint(strings.ToUpper(s[7:]))
	if err == nil {
		t.Fatalf("fingerprint without prefix parsed as %v", back)
	}
	if back, err = ParseFingerprint("SHA256:" + strings.ToUpper(s[7:])); err != nil || back != fp {
		t.Fatalf("ParseFingerprint = %v, %v", back, err)
	}
}
