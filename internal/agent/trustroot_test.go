package agent

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"strings"
	"testing"
)

func TestTokenRoot(t *testing.T) {
	hex := strings.Repeat("ab", 32)
	tests := []struct {
		name, token, want string
		err               bool
	}{
		{"secret only", "te_abc", "", false},
		{"relay pin only", "te_abc." + hex, "", false},
		{"relay pin and root", "te_abc." + hex + "." + strings.Repeat("cd", 32), "SHA256:" + strings.Repeat("cd", 32), false},
		{"a malformed root", "te_abc." + hex + ".xyz", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tokenRoot(tt.token)
			if got != tt.want || (err != nil) != tt.err {
				t.Errorf("tokenRoot = %q, %v; want %q, error %v", got, err, tt.want, tt.err)
			}
			if o := (EnrollOptions{Token: tt.token}); strings.Count(tt.token, ".") > 0 {
				if pin, err := enrollPin(o); err != nil || pin != "SHA256:"+hex {
					t.Errorf("enrollPin = %q, %v; want the relay pin", pin, err)
				}
			}
		})
	}
}

// TestTrustPinAndShow: pin a device that pins nothing; the same pin again
// is fine; another is refused and the pin stays.
func TestTrustPinAndShow(t *testing.T) {
	home := t.TempDir()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	if err := writeKey(keyPath(home), key); err != nil {
		t.Fatal(err)
	}
	if err := saveState(home, &State{Relay: "https://r.example:8443", DeviceID: "d_x", Name: "pc"}); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Home: home}
	var out, errOut bytes.Buffer
	if err := TrustShow(cfg, &out, &errOut); err != nil || out.Len() != 0 || !strings.Contains(errOut.String(), "No trust root is pinned") {
		t.Fatalf("show with no pin: %v stdout %q stderr %q", err, out.String(), errOut.String())
	}
	a, b := "SHA256:"+strings.Repeat("0A", 32), "SHA256:"+strings.Repeat("0b", 32)
	canonical := "SHA256:" + strings.Repeat("0a", 32)
	for _, step := range []struct {
		fp      string
		wantErr bool
	}{{a, false}, {canonical, false}, {b, true}, {"SHA256:12", true}} {
		if err := TrustPin(cfg, step.fp); (err != nil) != step.wantErr {
			t.Errorf("pin %s: %v, want error %v", step.fp, err, step.wantErr)
		}
	}
	out.Reset()
	if err := TrustShow(cfg, &out, &errOut); err != nil || out.String() != canonical+"\n" {
		t.Errorf("show: %v %q, want %s", err, out.String(), canonical)
	}
}
