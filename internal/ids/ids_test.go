package ids

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

func TestNewIDsAreValidAndDistinct(t *testing.T) {
	checks := []struct {
		name  string
		new   func() string
		valid func(string) bool
		shape *regexp.Regexp
	}{
		{"session", func() string { return NewSessionID().String() }, func(s string) bool { return SessionID(s).Valid() }, regexp.MustCompile(`^[0-9a-f]{32}$`)},
		{"device", func() string { return NewDeviceID().String() }, func(s string) bool { return DeviceID(s).Valid() }, regexp.MustCompile(`^d_[a-z2-7]{26}$`)},
		{"user", func() string { return NewUserID().String() }, func(s string) bool { return UserID(s).Valid() }, regexp.MustCompile(`^u_[a-z2-7]{26}$`)},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			a, b := c.new(), c.new()
			if a == b {
				t.Errorf("two new IDs are equal: %q", a)
			}
			for _, id := range []string{a, b} {
				if !c.shape.MatchString(id) || !c.valid(id) {
					t.Errorf("new ID %q: valid %v, want the form %s", id, c.valid(id), c.shape)
				}
			}
		})
	}
}

func TestValidation(t *testing.T) {
	const (
		hex32 = "0123456789abcdef0123456789abcdef"
		b32   = "abcdefghijklmnopqrstuvwxyz"
	)
	tests := []struct {
		kind, in string
		ok       bool
	}{
		{"session", hex32, true},
		{"session", "ffffffffffffffffffffffffffffffff", true},
		{"session", "", false},
		{"session", hex32[:31], false},
		{"session", hex32 + "0", false},
		{"session", "0123456789ABCDEF0123456789abcdef", false},
		{"session", "g123456789abcdef0123456789abcdef", false},
		{"session", "d_" + b32, false},
		{"device", "d_" + b32, true},
		{"device", "d_234567" + b32[:20], true},
		{"device", "d_" + b32[:25], false},
		{"device", "d_" + b32 + "a", false},
		{"device", "u_" + b32, false},
		{"device", "D_" + b32, false},
		{"device", "d_" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ", false},
		{"device", "d_01" + b32[:24], false},
		{"device", hex32[:28], false},
		{"device", "", false},
		{"user", "u_" + b32, true},
		{"user", "d_" + b32, false},
		{"user", "u_" + b32[:25] + "8", false},
		{"user", "emergency-0123456789ab", false},
		{"user", hex32, false},
		{"user", "", false},
	}
	for _, tt := range tests {
		var valid bool
		var err error
		switch tt.kind {
		case "session":
			valid = SessionID(tt.in).Valid()
			_, err = ParseSessionID(tt.in)
		case "device":
			valid = DeviceID(tt.in).Valid()
			_, err = ParseDeviceID(tt.in)
		case "user":
			valid = UserID(tt.in).Valid()
			_, err = ParseUserID(tt.in)
		}
		if valid != tt.ok || (err == nil) != tt.ok {
			t.Errorf("%s %q: Valid %v, Parse error %v; want valid %v", tt.kind, tt.in, valid, err, tt.ok)
		}
	}
}

func TestSessionIDBytes(t *testing.T) {
	tests := []struct {
		in   SessionID
		ok   bool
		want byte // the last byte
	}{
		{"000102030405060708090a0b0c0d0e0f", true, 0x0f},
		// Bytes decodes as hex.DecodeString does, as the peers always have.
		{"000102030405060708090A0B0C0D0E0F", true, 0x0f},
		{"000102030405060708090a0b0c0d0e", false, 0},
		{"000102030405060708090a0b0c0d0e0f00", false, 0},
		{"zz0102030405060708090a0b0c0d0e0f", false, 0},
		{"", false, 0},
	}
	for _, tt := range tests {
		b, err := tt.in.Bytes()
		if (err == nil) != tt.ok || (tt.ok && (b[0] != 0 || b[15] != tt.want)) {
			t.Errorf("Bytes(%q) = %x, %v; want ok %v", tt.in, b, err, tt.ok)
		}
	}
}

// wireRecord carries every ID type the way the store records and messages
// do, to pin their encoding.
type wireRecord struct {
	Session SessionID   `json:"session"`
	Device  DeviceID    `json:"device,omitempty"`
	User    UserID      `json:"user"`
	Empty   DeviceID    `json:"empty,omitempty"`
	List    []SessionID `json:"list"`
	Map     map[UserID]DeviceID
}

// plainRecord is wireRecord as it was with plain strings.
type plainRecord struct {
	Session string   `json:"session"`
	Device  string   `json:"device,omitempty"`
	User    string   `json:"user"`
	Empty   string   `json:"empty,omitempty"`
	List    []string `json:"list"`
	Map     map[string]string
}

// TestJSONIsThePlainString checks the typed IDs encode byte for byte as the
// plain strings they replaced (testdata/wire.json, written by hand).
func TestJSONIsThePlainString(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "wire.json"))
	if err != nil {
		t.Fatal(err)
	}
	rec := wireRecord{
		Session: "0123456789abcdef0123456789abcdef",
		Device:  "d_abcdefghijklmnopqrstuvwxyz",
		User:    "u_abcdefghijklmnopqrstuvwxyz",
		List:    []SessionID{"a", "b"},
		Map:     map[UserID]DeviceID{"u_x": "d_y"},
	}
	got, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	if string(got)+"\n" != string(want) {
		t.Errorf("typed encoding:\n got %s\nwant %s", got, want)
	}
	plain := plainRecord{Session: string(rec.Session), Device: string(rec.Device), User: string(rec.User),
		List: []string{"a", "b"}, Map: map[string]string{"u_x": "d_y"}}
	if p, _ := json.Marshal(plain); string(p) != string(got) {
		t.Errorf("typed and plain encodings differ:\n typed %s\n plain %s", got, p)
	}
	var back wireRecord
	if err := json.Unmarshal(want, &back); err != nil {
		t.Fatal(err)
	}
	if again, _ := json.Marshal(back); string(again) != string(got) {
		t.Errorf("round trip changed the encoding: %s", again)
	}
}

// fuzzParse checks a parse function against its Valid method and that an
// accepted value is returned unchanged.
func fuzzParse[T ~string](t *testing.T, s string, parse func(string) (T, error), valid func(T) bool) {
	id, err := parse(s)
	if (err == nil) != valid(T(s)) {
		t.Fatalf("parse(%q) error %v disagrees with Valid %v", s, err, valid(T(s)))
	}
	if err == nil && string(id) != s {
		t.Fatalf("parse(%q) = %q", s, id)
	}
	if err != nil && id != "" {
		t.Fatalf("parse(%q) failed but returned %q", s, id)
	}
}

func FuzzParseSessionID(f *testing.F) {
	f.Add("0123456789abcdef0123456789abcdef")
	f.Fuzz(func(t *testing.T, s string) {
		fuzzParse(t, s, ParseSessionID, SessionID.Valid)
		b, err := SessionID(s).Bytes()
		if SessionID(s).Valid() && (err != nil || SessionID(hexOf(b)) != SessionID(s)) {
			t.Fatalf("valid %q: Bytes %x, %v", s, b, err)
		}
	})
}

func FuzzParseDeviceID(f *testing.F) {
	f.Add("d_abcdefghijklmnopqrstuvwxyz")
	f.Fuzz(func(t *testing.T, s string) { fuzzParse(t, s, ParseDeviceID, DeviceID.Valid) })
}

func FuzzParseUserID(f *testing.F) {
	f.Add("u_abcdefghijklmnopqrstuvwxyz")
	f.Fuzz(func(t *testing.T, s string) { fuzzParse(t, s, ParseUserID, UserID.Valid) })
}

// hexOf is lowercase hex, written out so the test does not lean on the
// encoder under test.
func hexOf(b [16]byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 32)
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}
