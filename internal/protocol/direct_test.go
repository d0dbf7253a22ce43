package protocol

import (
	"errors"
	"strings"
	"testing"
)

const testFP = "sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF"

// TestParseDirectSignal: well-formed offers and refusals pass; malformed
// SDP, fingerprints and oversized messages are ErrBadInner.
func TestParseDirectSignal(t *testing.T) {
	good := `{"sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n","fingerprint":"` + testFP + `"}`
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"offer", good, true},
		{"declined", `{"declined":"policy forbids the direct path"}`, true},
		{"declined with sdp", `{"declined":"x","sdp":"v=0\r\n"}`, false},
		{"no sdp", `{"fingerprint":"` + testFP + `"}`, false},
		{"not sdp", `{"sdp":"hello","fingerprint":"` + testFP + `"}`, false},
		{"control bytes", `{"sdp":"v=0\u0000","fingerprint":"` + testFP + `"}`, false},
		{"oversized sdp", `{"sdp":"v=0` + strings.Repeat("a", MaxDirectSDP) + `","fingerprint":"` + testFP + `"}`, false},
		{"lower-case fingerprint", `{"sdp":"v=0\r\n","fingerprint":"` + strings.ToLower(testFP) + `"}`, false},
		{"sha-1 fingerprint", `{"sdp":"v=0\r\n","fingerprint":"sha-1 00:11"}`, false},
		{"not json", `v=0`, false},
	}
	for _, tc := range tests {
		_, err := ParseDirectSignal([]byte(tc.in))
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrBadInner)) {
			t.Errorf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// TestParseDirectCandidate: candidate lines, the end marker, and refusals.
func TestParseDirectCandidate(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{`{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"}`, true},
		{`{"candidate":""}`, true},
		{`{"candidate":"a=candidate:1"}`, false},
		{`{"candidate":"candidate:` + strings.Repeat("1", MaxDirectCandidate) + `"}`, false},
		{`{"candidate":"candidate:1\n"}`, false},
		{`[]`, false},
	}
	for _, tc := range tests {
		_, err := ParseDirectCandidate([]byte(tc.in))
		if tc.ok != (err == nil) {
			t.Errorf("%s: err %v, want ok=%v", tc.in, err, tc.ok)
		}
	}
}

// TestParseDirectStateAndAck covers the state names and the ack's size.
func TestParseDirectStateAndAck(t *testing.T) {
	for in, ok := range map[string]bool{
		`{"state":"ready"}`: true, `{"state":"failed","why":"no route"}`: true, `{"state":"fallback"}`: true,
		`{"state":"up"}`: false, `{"state":"failed","why":"` + strings.Repeat("w", MaxDirectWhy+1) + `"}`: false,
	} {
		if _, err := ParseDirectState([]byte(in)); ok != (err == nil) {
			t.Errorf("%s: err %v, want ok=%v", in, err, ok)
		}
	}
	msg := AppendPathAck(nil, 1<<40+7)
	typ, p, err := ParseInner(msg)
	if err != nil || typ != InPathAck {
		t.Fatalf("ack parses as %v, %v", typ, err)
	}
	if n, err := ParsePathAck(p); err != nil || n != 1<<40+7 {
		t.Fatalf("ack %d, %v", n, err)
	}
	if _, err := ParsePathAck(p[:7]); !errors.Is(err, ErrBadInner) {
		t.Fatalf("7-byte ack: %v", err)
	}
}

// FuzzParseDirectSignal: never panics; what it accepts obeys the limits.
func FuzzParseDirectSignal(f *testing.F) {
	f.Add([]byte(`{"sdp":"v=0\r\n","fingerprint":"` + testFP + `"}`))
	f.Add([]byte(`{"declined":"no"}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		s, err := ParseDirectSignal(p)
		if err != nil {
			if !errors.Is(err, ErrBadInner) {
				t.Fatalf("refusal is not ErrBadInner: %v", err)
			}
			return
		}
		if s.Declined == "" && (checkSDP(s.SDP) != nil || !ValidFingerprint(s.Fingerprint)) {
			t.Fatalf("accepted %+v", s)
		}
	})
}

// FuzzParseDirectCandidate: never panics; accepted lines are bounded ASCII.
func FuzzParseDirectCandidate(f *testing.F) {
	f.Add([]byte(`{"candidate":"candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host"}`))
	f.Add([]byte(`{"candidate":""}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		c, err := ParseDirectCandidate(p)
		if err == nil && len(c.Candidate) > MaxDirectCandidate {
			t.Fatalf("accepted %d bytes", len(c.Candidate))
		}
	})
}

// FuzzParseDirectState: never panics; accepted states are known.
func FuzzParseDirectState(f *testing.F) {
	f.Add([]byte(`{"state":"ready"}`))
	f.Add([]byte(`{"state":"failed","why":"x"}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		s, err := ParseDirectState(p)
		if err == nil && s.State != DirectReady && s.State != DirectFailed && s.State != DirectFallback && s.State != DirectClosing {
			t.Fatalf("accepted %q", s.State)
		}
	})
}

// FuzzParsePathAck: only 8-byte payloads pass.
func FuzzParsePathAck(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, p []byte) {
		if _, err := ParsePathAck(p); (err == nil) != (len(p) == 8) {
			t.Fatalf("%d bytes: %v", len(p), err)
		}
	})
}
