package trust

import (
	"errors"
	"testing"
	"time"
)

// testCert is a week-long certificate for alice's key 5 under keys 0 and 1.
func testCert(t testing.TB, signers ...*PrivateKey) *Document {
	return signedDoc(t, &TechCertBody{Name: "Alice Example", Username: "alice", Org: "Example Hospital",
		Capabilities: []string{"files", "shell"}, Key: testKey(5).Public()}, 1, tIssued.Add(7*24*time.Hour), signers...)
}

func TestVerifyTechAuth(t *testing.T) {
	t.Parallel()
	root := verifiedRoot(t, 2, testKey(0), testKey(1), testKey(2))
	cert := testCert(t, testKey(0), testKey(1))
	exp, sid := []byte("0123456789abcdef0123456789abcdef"), []byte("session-id-16byt")
	good, err := SignTechAuth(testKey(5), cert, exp, sid)
	if err != nil {
		t.Fatal(err)
	}
	otherSession, _ := SignTechAuth(testKey(5), cert, exp, []byte("another-session!"))
	wrongKey, _ := SignTechAuth(testKey(4), cert, exp, sid)
	during := tIssued.Add(time.Hour)
	for _, tc := range []struct {
		name string
		cert []byte
		sig  Signature
		user string
		now  time.Time
		want error // nil: accepted; errNonNil: any error
	}{
		{"valid", cert.Encode(), good, "alice", during, nil},
		{"relay renamed the technician", cert.Encode(), good, "mallory", during, ErrTechUsername},
		{"expired", cert.Encode(), good, "alice", tIssued.Add(8 * 24 * time.Hour), ErrExpired},
		{"not yet valid", cert.Encode(), good, "alice", tIssued.Add(-time.Hour), errNonNil},
		{"below threshold", testCert(t, testKey(0)).Encode(), good, "alice", during, ErrBelowThreshold},
		{"proof for another session", cert.Encode(), otherSession, "alice", during, ErrTechProof},
		{"proof by another key", cert.Encode(), wrongKey, "alice", during, ErrTechProof},
		{"not a certificate", signedDoc(t, testPolicy(), 1, tExpiry, testKey(0), testKey(1)).Encode(), good, "alice", during, errNonNil},
		{"garbage", []byte("nonsense"), good, "alice", during, errNonNil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := VerifyTechAuth(root, tc.cert, tc.sig, exp, sid, tc.user, tc.now)
			switch {
			case tc.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want == nil && got.Org != "Example Hospital":
				t.Fatalf("certificate org %q", got.Org)
			case tc.want == errNonNil && err == nil, tc.want != nil && tc.want != errNonNil && !errors.Is(err, tc.want):
				t.Fatalf("VerifyTechAuth = %v, want %v", err, tc.want)
			}
		})
	}
}

// errNonNil stands for "some error" in tables.
var errNonNil = errors.New("any error")

func TestSignatureBytesRoundTrip(t *testing.T) {
	t.Parallel()
	sig, err := testKey(0).Sign("example", []byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseSignature(sig.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if err := testKey(0).Public().Verify("example", []byte("m"), got); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseSignature(sig.Bytes()[1:]); err == nil {
		t.Fatal("a short signature parsed")
	}
}
