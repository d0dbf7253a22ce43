package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

func techAuthPayload(certLen uint32, cert, sig []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, certLen)
	return append(append(b, cert...), sig...)
}

func TestTechAuthRoundTrip(t *testing.T) {
	a := TechAuth{Cert: []byte("certificate"), Sig: bytes.Repeat([]byte{7}, TechAuthSigSize)}
	msg, err := AppendTechAuth(nil, a)
	if err != nil {
		t.Fatal(err)
	}
	typ, payload, err := ParseInner(msg)
	if err != nil || typ != InTechAuth {
		t.Fatalf("ParseInner = %v, %v", typ, err)
	}
	got, err := ParseTechAuth(payload)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Cert, a.Cert) || !bytes.Equal(got.Sig, a.Sig) {
		t.Fatalf("round trip changed the message")
	}
}

func TestTechAuthUncertified(t *testing.T) {
	msg, err := AppendTechAuth(nil, TechAuth{})
	if err != nil || len(msg) != 1 {
		t.Fatalf("AppendTechAuth(zero) = %x, %v", msg, err)
	}
	a, err := ParseTechAuth(nil)
	if err != nil || a.Certified() {
		t.Fatalf("ParseTechAuth(empty) = %+v, %v", a, err)
	}
}

func TestParseTechAuthRefuses(t *testing.T) {
	sig := bytes.Repeat([]byte{1}, TechAuthSigSize)
	for _, tc := range []struct {
		name string
		p    []byte
	}{
		{"short length", []byte{0, 0, 1}},
		{"no certificate", techAuthPayload(0, nil, sig)},
		{"length past the end", techAuthPayload(100, []byte("abc"), nil)},
		{"short signature", techAuthPayload(3, []byte("abc"), sig[:10])},
		{"trailing byte", techAuthPayload(3, []byte("abc"), append(sig, 0))},
		{"huge certificate", techAuthPayload(MaxTechCert+1, make([]byte, MaxTechCert+1), sig)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseTechAuth(tc.p); !errors.Is(err, ErrBadInner) {
				t.Fatalf("ParseTechAuth = %v, want ErrBadInner", err)
			}
		})
	}
	if _, err := AppendTechAuth(nil, TechAuth{Cert: []byte("c"), Sig: sig[:1]}); !errors.Is(err, ErrBadInner) {
		t.Fatalf("AppendTechAuth with a short signature = %v", err)
	}
}

func FuzzParseTechAuth(f *testing.F) {
	f.Add(techAuthPayload(3, []byte("abc"), bytes.Repeat([]byte{1}, TechAuthSigSize)))
	f.Add([]byte{0, 0, 0, 0})
	f.Add(techAuthPayload(0xffffffff, nil, nil))
	f.Fuzz(func(t *testing.T, p []byte) {
		a, err := ParseTechAuth(p)
		if err != nil {
			if !errors.Is(err, ErrBadInner) {
				t.Fatalf("refusal is not ErrBadInner: %v", err)
			}
			return
		}
		msg, err := AppendTechAuth(nil, a)
		if err != nil {
			t.Fatalf("re-encode an accepted message: %v", err)
		}
		if !bytes.Equal(msg[1:], p) {
			t.Fatalf("accepted a non-canonical encoding")
		}
	})
}
