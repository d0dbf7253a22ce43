package e2e

import (
	"bytes"
	"testing"
)

// fuzzHandshake returns a reproducible genuine transcript and the security
// code it produces; fuzz targets rebuild the same parties per input so the
// committed genuine messages exercise the success paths.
func fuzzHandshake(tb testing.TB) (transcript, string) {
	tb.Helper()
	key := detDeviceKey(1)
	i, hello := newDetInitiator(tb, testParams(key), 1)
	is, _, tr, err := runHandshake(i, hello, newDetResponder(testParams(key), key, 2), tamper{})
	if err != nil {
		tb.Fatalf("handshake: %v", err)
	}
	return tr, is.SecurityCode
}

func FuzzClientHello(f *testing.F) {
	tr, _ := fuzzHandshake(f)
	f.Add(tr.clientHello)
	f.Add(tr.clientHello[:2])
	f.Add([]byte{})
	key := detDeviceKey(1)
	f.Fuzz(func(t *testing.T, msg []byte) {
		r := newDetResponder(testParams(key), key, 2)
		sh, err := r.Respond(msg)
		if err != nil {
			if sh != nil || !isProtocolError(err) {
				t.Fatalf("got (%d bytes, %v), want (nil, a package error)", len(sh), err)
			}
			return
		}
		if len(msg) != ClientHelloSize || len(sh) != ServerHelloSize {
			t.Fatalf("accepted %d-byte ClientHello giving %d-byte ServerHello, want %d and %d",
				len(msg), len(sh), ClientHelloSize, ServerHelloSize)
		}
	})
}

func FuzzServerHello(f *testing.F) {
	tr, code := fuzzHandshake(f)
	f.Add(tr.serverHello)
	f.Add(tr.serverHello[:ServerHelloSize-1])
	f.Add([]byte{0, 1})
	key := detDeviceKey(1)
	f.Fuzz(func(t *testing.T, msg []byte) {
		i, _ := newDetInitiator(t, testParams(key), 1)
		cf, s, err := i.Finish(msg)
		if err != nil {
			if cf != nil || s != nil || !isProtocolError(err) {
				t.Fatalf("got (%d bytes, %v, %v), want (nil, nil, a package error)", len(cf), s, err)
			}
			return
		}
		// Only the device can sign, so only the genuine message passes.
		if !bytes.Equal(msg, tr.serverHello) || s.SecurityCode != code {
			t.Fatalf("accepted a forged ServerHello (code %q, want %q)", s.SecurityCode, code)
		}
	})
}

func FuzzClientFinish(f *testing.F) {
	tr, code := fuzzHandshake(f)
	f.Add(tr.clientFinish)
	f.Add(tr.clientFinish[:ClientFinishSize-1])
	f.Add([]byte{0, 2})
	key := detDeviceKey(1)
	_, hello := newDetInitiator(f, testParams(key), 1)
	f.Fuzz(func(t *testing.T, msg []byte) {
		r := newDetResponder(testParams(key), key, 2)
		if _, err := r.Respond(hello); err != nil {
			t.Fatal(err)
		}
		s, err := r.Finish(msg)
		if err != nil {
			if s != nil || !isProtocolError(err) {
				t.Fatalf("got (%v, %v), want (nil, a package error)", s, err)
			}
			return
		}
		if !bytes.Equal(msg, tr.clientFinish) || s.SecurityCode != code {
			t.Fatalf("accepted a forged ClientFinish (code %q, want %q)", s.SecurityCode, code)
		}
	})
}

func FuzzOpen(f *testing.F) {
	s, _ := newPair(f)
	f.Add([]byte{1}, seal(f, s, []byte{1}, []byte("hello")))
	f.Add([]byte(nil), seal(f, newPairSealer(f), nil, nil))
	f.Add([]byte{1}, make([]byte, frameOverhead-1))
	f.Fuzz(func(t *testing.T, aad, payload []byte) {
		_, o := newPair(t)
		plain, err := o.Open(nil, aad, payload)
		if err != nil {
			again, err2 := o.Open(nil, aad, payload)
			if again != nil || err2 != err {
				t.Fatalf("second Open after %v: got (%q, %v), want (nil, same error)", err, again, err2)
			}
			return
		}
		// Anything accepted must be exactly what the Sealer produces.
		want := seal(t, newPairSealer(t), aad, plain)
		if !bytes.Equal(payload, want) {
			t.Fatalf("accepted payload %x, want %x", payload, want)
		}
	})
}

func newPairSealer(tb testing.TB) *Sealer {
	s, _ := newPair(tb)
	return s
}
