package tlsconf

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testCert generates a certificate once for the tests that only need one.
var testCert = sync.OnceValues(func() (tls.Certificate, error) {
	dir, err := os.MkdirTemp("", "tlsconf-test-")
	if err != nil {
		return tls.Certificate{}, err
	}
	defer os.RemoveAll(dir)
	if err := Generate(dir, nil); err != nil {
		return tls.Certificate{}, err
	}
	return Load(dir)
})

func mustCert(t *testing.T) tls.Certificate {
	t.Helper()
	cert, err := testCert()
	if err != nil {
		t.Fatalf("generating test certificate: %v", err)
	}
	return cert
}

func TestGenerateLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "relay")
	if err := Generate(dir, []string{"relay.example.com", "192.0.2.7", "localhost"}); err != nil {
		t.Fatalf("Generate: %v", err)
	}
	for name, want := range map[string]fs.FileMode{CertFile: 0o644, KeyFile: 0o600} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode = %v, want %v", name, got, want)
		}
	}
	cert, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	leaf := cert.Leaf
	if _, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok {
		t.Errorf("public key is %T, want *ecdsa.PublicKey", leaf.PublicKey)
	}
	if got, want := leaf.DNSNames, []string{"localhost", "relay.example.com"}; !slices.Equal(got, want) {
		t.Errorf("DNSNames = %v, want %v", got, want)
	}
	var ips []string
	for _, ip := range leaf.IPAddresses {
		ips = append(ips, ip.String())
	}
	if want := []string{"127.0.0.1", "::1", "192.0.2.7"}; !slices.Equal(ips, want) {
		t.Errorf("IPAddresses = %v, want %v", ips, want)
	}
	if d := leaf.NotAfter.Sub(time.Now()); d < Validity-2*time.Hour || d > Validity {
		t.Errorf("certificate valid for %v more, want about %v", d, Validity)
	}
	if err := leaf.VerifyHostname("relay.example.com"); err != nil {
		t.Errorf("VerifyHostname: %v", err)
	}

	again, err := Load(dir)
	if err != nil {
		t.Fatalf("second Load: %v", err)
	}
	if a, b := Fingerprint(leaf), Fingerprint(again.Leaf); a != b {
		t.Errorf("fingerprint after reload = %s, want %s", b, a)
	}
}

func TestGenerateRefusesOverwrite(t *testing.T) {
	dir := t.TempDir()
	if err := Generate(dir, nil); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if err := Generate(dir, nil); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second Generate error = %v, want fs.ErrExist", err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if string(before) != string(after) {
		t.Error("second Generate replaced the key")
	}
}

func TestLoadMissing(t *testing.T) {
	if _, err := Load(t.TempDir()); err == nil || !strings.HasPrefix(err.Error(), "tlsconf: ") {
		t.Errorf("Load(empty dir) error = %v, want a tlsconf error", err)
	}
}

func TestFingerprintKeepsAcrossReissue(t *testing.T) {
	cert := mustCert(t)
	key := cert.PrivateKey.(*ecdsa.PrivateKey)
	tmpl := *cert.Leaf
	tmpl.SerialNumber.Add(tmpl.SerialNumber, tmpl.SerialNumber)
	tmpl.NotAfter = tmpl.NotAfter.Add(time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, &tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	reissued, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := Fingerprint(cert.Leaf), Fingerprint(reissued); a != b {
		t.Errorf("fingerprint of re-issued certificate = %s, want %s", b, a)
	}
	if fp := Fingerprint(cert.Leaf); len(fp) != len("SHA256:")+64 || fp != "SHA256:"+strings.ToLower(fp[7:]) {
		t.Errorf("Fingerprint = %q, want SHA256: and 64 lowercase hex digits", fp)
	}
	if got, err := ParseFingerprint(Fingerprint(cert.Leaf)); err != nil || got != Fingerprint(cert.Leaf) {
		t.Errorf("ParseFingerprint(Fingerprint()) = %q, %v; want it unchanged", got, err)
	}
}

// handshake runs a TLS handshake between server and client over loopback
// TCP (net.Pipe is unbuffered, so a client's alert can deadlock against the
// server's flight) and returns the client's connection state and both
// errors.
func handshake(t *testing.T, server, client *tls.Config) (tls.ConnectionState, error, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srvErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		srvErr <- tls.Server(c, server).Handshake()
	}()
	cc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cc.SetDeadline(time.Now().Add(10 * time.Second))
	cli := tls.Client(cc, client)
	cliErr := cli.Handshake()
	cs := cli.ConnectionState()
	cc.Close()
	return cs, cliErr, <-srvErr
}

func TestHandshakePinned(t *testing.T) {
	cert := mustCert(t)
	fp := Fingerprint(cert.Leaf)
	upper := "sha256:" + strings.ToUpper(strings.TrimPrefix(fp, "SHA256:"))
	for _, pin := range []string{fp, upper} {
		cs, cerr, serr := handshake(t, ServerConfig(cert), ClientConfig(pin, nil))
		if cerr != nil || serr != nil {
			t.Fatalf("pin %s: handshake errors client=%v server=%v, want none", pin, cerr, serr)
		}
		if cs.Version != tls.VersionTLS13 {
			t.Errorf("negotiated version %x, want TLS 1.3 (%x)", cs.Version, tls.VersionTLS13)
		}
		if cs.NegotiatedProtocol != "http/1.1" {
			t.Errorf("ALPN = %q, want http/1.1", cs.NegotiatedProtocol)
		}
	}
}

func TestHandshakeWrongPin(t *testing.T) {
	cert := mustCert(t)
	wrong := "SHA256:" + strings.Repeat("ab", 32)
	_, cerr, _ := handshake(t, ServerConfig(cert), ClientConfig(wrong, nil))
	var pe *PinError
	if !errors.As(cerr, &pe) {
		t.Fatalf("client error = %v, want *PinError", cerr)
	}
	if pe.Want != wrong || pe.Got != Fingerprint(cert.Leaf) {
		t.Errorf("PinError = %+v, want Want %s, Got %s", pe, wrong, Fingerprint(cert.Leaf))
	}
	if !errors.Is(cerr, ErrPinMismatch) {
		t.Errorf("client error does not wrap ErrPinMismatch")
	}
	msg := pe.Error()
	for _, s := range []string{"certificate changed", "rotated", pe.Want, pe.Got, "re-pin"} {
		if !strings.Contains(msg, s) {
			t.Errorf("PinError message %q missing %q", msg, s)
		}
	}
}

func TestHandshakeInvalidPin(t *testing.T) {
	_, cerr, _ := handshake(t, ServerConfig(mustCert(t)), ClientConfig("SHA256:nothex", nil))
	if !errors.Is(cerr, ErrBadFingerprint) {
		t.Errorf("client error = %v, want ErrBadFingerprint", cerr)
	}
}

func TestHandshakeFirstUse(t *testing.T) {
	cert := mustCert(t)
	var got []string
	_, cerr, serr := handshake(t, ServerConfig(cert), ClientConfig("", func(fp string) { got = append(got, fp) }))
	if cerr != nil || serr != nil {
		t.Fatalf("handshake errors client=%v server=%v, want none", cerr, serr)
	}
	if want := []string{Fingerprint(cert.Leaf)}; !slices.Equal(got, want) {
		t.Errorf("onFirstUse called with %v, want %v", got, want)
	}
	// The stored value works as a pin.
	if _, cerr, _ := handshake(t, ServerConfig(cert), ClientConfig(got[0], nil)); cerr != nil {
		t.Errorf("handshake with the first-use fingerprint as pin: %v", cerr)
	}
}

func TestHandshakeVersionsAndSuites(t *testing.T) {
	cert := mustCert(t)
	tests := []struct {
		name    string
		edit    func(*tls.Config)
		wantErr string // in the server's error; "" for success
		version uint16
	}{
		{"tls13", func(c *tls.Config) {}, "", tls.VersionTLS13},
		{"tls12 gcm", func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }, "", tls.VersionTLS12},
		{"tls12 cbc only", func(c *tls.Config) {
			c.MaxVersion = tls.VersionTLS12
			c.CipherSuites = []uint16{
				tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
				tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
				tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
			}
		}, "no cipher suite", 0},
		{"tls11", func(c *tls.Config) {
			c.MinVersion = tls.VersionTLS10
			c.MaxVersion = tls.VersionTLS11
			c.CipherSuites = nil // let the client offer its defaults
		}, "unsupported versions", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := ClientConfig(Fingerprint(cert.Leaf), nil)
			tt.edit(client)
			cs, cerr, serr := handshake(t, ServerConfig(cert), client)
			if tt.wantErr != "" {
				if cerr == nil || serr == nil || !strings.Contains(serr.Error(), tt.wantErr) {
					t.Errorf("handshake errors client=%v server=%v, want both to fail, server with %q",
						cerr, serr, tt.wantErr)
				}
				return
			}
			if cerr != nil || serr != nil {
				t.Fatalf("handshake errors client=%v server=%v, want none", cerr, serr)
			}
			if cs.Version != tt.version {
				t.Errorf("negotiated version %x, want %x", cs.Version, tt.version)
			}
		})
	}
}

func TestConfigs(t *testing.T) {
	for name, c := range map[string]*tls.Config{
		"server": ServerConfig(mustCert(t)),
		"client": ClientConfig("", nil),
	} {
		if c.MinVersion != tls.VersionTLS12 {
			t.Errorf("%s MinVersion = %x, want TLS 1.2", name, c.MinVersion)
		}
		if !c.DynamicRecordSizingDisabled {
			t.Errorf("%s has dynamic record sizing on, want full-size records", name)
		}
		if !slices.Equal(c.CipherSuites, cipherSuites) {
			t.Errorf("%s CipherSuites = %v, want %v", name, c.CipherSuites, cipherSuites)
		}
		for _, id := range c.CipherSuites {
			n := tls.CipherSuiteName(id)
			if !strings.HasPrefix(n, "TLS_ECDHE_") || !(strings.Contains(n, "_GCM_") || strings.Contains(n, "CHACHA20")) {
				t.Errorf("%s suite %s is not ECDHE with AEAD", name, n)
			}
		}
		if !slices.Contains(c.CurvePreferences, tls.X25519MLKEM768) {
			t.Errorf("%s CurvePreferences = %v, want X25519MLKEM768 included", name, c.CurvePreferences)
		}
	}
}

// TestHandshakePinSet: during a rotation the client accepts the current or
// the announced next key, is told when the next one is in use, and still
// refuses any other key.
func TestHandshakePinSet(t *testing.T) {
	cert := mustCert(t)
	fp := Fingerprint(cert.Leaf)
	other := "SHA256:" + strings.Repeat("cd", 32)
	tests := []struct {
		name          string
		current, next string
		wantNext      bool
		wantErr       bool
	}{
		{"current", fp, other, false, false},
		{"next in use", other, fp, true, false},
		{"neither", other, "SHA256:" + strings.Repeat("ef", 32), false, true},
		{"malformed next ignored", other, "SHA256:" + fp[7:70], false, true},
		{"no next", other, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var saw []string
			var mu sync.Mutex
			client := PinnedConfig(Pins{Current: tt.current, Next: tt.next, OnNext: func(s string) {
				mu.Lock()
				saw = append(saw, s)
				mu.Unlock()
			}})
			_, cerr, _ := handshake(t, ServerConfig(cert), client)
			if (cerr != nil) != tt.wantErr {
				t.Fatalf("handshake error = %v, want error %v", cerr, tt.wantErr)
			}
			if tt.wantErr {
				var pe *PinError
				if !errors.As(cerr, &pe) || pe.Got != fp {
					t.Fatalf("error = %v, want a *PinError naming %s", cerr, fp)
				}
				if tt.next != "" && tt.name != "malformed next ignored" && !strings.Contains(pe.Error(), tt.next) {
					t.Errorf("PinError %q does not name the next pin", pe.Error())
				}
			}
			if want := tt.wantNext; (len(saw) == 1 && saw[0] == fp) != want || len(saw) > 1 {
				t.Errorf("OnNext calls = %v, want one with %s: %v", saw, fp, want)
			}
		})
	}
}

// TestServerConfigFunc: the certificate is chosen per handshake.
func TestServerConfigFunc(t *testing.T) {
	a := mustCert(t)
	dir := t.TempDir()
	if err := Generate(dir, nil); err != nil {
		t.Fatal(err)
	}
	b, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var cur atomic.Pointer[tls.Certificate]
	cur.Store(&a)
	srv := ServerConfigFunc(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cur.Load(), nil })
	if _, cerr, _ := handshake(t, srv, ClientConfig(Fingerprint(a.Leaf), nil)); cerr != nil {
		t.Fatalf("first certificate: %v", cerr)
	}
	cur.Store(&b)
	if _, cerr, _ := handshake(t, srv, ClientConfig(Fingerprint(b.Leaf), nil)); cerr != nil {
		t.Fatalf("after the switch: %v", cerr)
	}
	if _, cerr, _ := handshake(t, srv, ClientConfig(Fingerprint(a.Leaf), nil)); !errors.Is(cerr, ErrPinMismatch) {
		t.Fatalf("old pin after the switch: %v, want ErrPinMismatch", cerr)
	}
}
