package e2e

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
)

const testLabel = "tether test stream v1"

// derive derives label on both sides of a session and fails on error.
func derive(tb testing.TB, initiator, responder *Session, label string) (is *Sealer, io *Opener, rs *Sealer, ro *Opener) {
	tb.Helper()
	is, io, err := initiator.Derive(label)
	if err != nil {
		tb.Fatalf("initiator Derive(%q): %v", label, err)
	}
	rs, ro, err = responder.Derive(label)
	if err != nil {
		tb.Fatalf("responder Derive(%q): %v", label, err)
	}
	return is, io, rs, ro
}

func TestDerivedStreamRoundTrip(t *testing.T) {
	t.Parallel()
	a, b := handshake(t)
	is, io, rs, ro := derive(t, a, b, LabelScreen)
	aad := []byte{0x40}
	for i, msg := range []string{"frame 0", "", "frame 2"} {
		f := seal(t, is, aad, []byte(msg))
		if got, err := ro.Open(nil, aad, f); err != nil || string(got) != msg {
			t.Fatalf("initiator->responder frame %d: got %q, %v", i, got, err)
		}
		f = seal(t, rs, aad, []byte(msg))
		if got, err := io.Open(nil, aad, f); err != nil || string(got) != msg {
			t.Fatalf("responder->initiator frame %d: got %q, %v", i, got, err)
		}
	}
}

// TestDerivedStreamsAreIndependent opens each stream's frames with every
// other opener of the session, of another session, and of the channel
// itself: only the stream's own opener, in its own direction, accepts them.
func TestDerivedStreamsAreIndependent(t *testing.T) {
	t.Parallel()
	a, b := handshake(t)
	c, d := handshake(t)
	type stream struct {
		name  string
		seal  *Sealer
		opens *Opener // the one opener that must accept
	}
	var streams []stream
	var openers []*Opener
	add := func(name string, s *Sealer, o *Opener) {
		streams = append(streams, stream{name, s, o})
		openers = append(openers, o)
	}
	add("channel i->r", a.Send, b.Recv)
	add("channel r->i", b.Send, a.Recv)
	for _, l := range []string{LabelScreen, testLabel} {
		is, io, rs, ro := derive(t, a, b, l)
		add(l+" i->r", is, ro)
		add(l+" r->i", rs, io)
	}
	is, io, rs, ro := derive(t, c, d, LabelScreen)
	add("other session screen i->r", is, ro)
	add("other session screen r->i", rs, io)

	aad := []byte{0x20}
	for _, s := range streams {
		frame := seal(t, s.seal, aad, []byte("secret of "+s.name))
		for _, o := range openers {
			if o == s.opens {
				continue
			}
			// A copy at the frame's sequence number (every stream's first
			// frame is 0), so only the key can refuse it and the real
			// opener stays usable.
			probe := *o
			probe.seq, probe.ad = 0, append([]byte(nil), o.ad...)
			if _, err := probe.Open(nil, aad, frame); !errors.Is(err, ErrAuthentication) {
				t.Errorf("frame of %s: another opener said %v, want ErrAuthentication", s.name, err)
			}
		}
		if got, err := s.opens.Open(nil, aad, frame); err != nil || string(got) != "secret of "+s.name {
			t.Errorf("frame of %s: its own opener said %q, %v", s.name, got, err)
		}
	}
}

// TestDeriveFollowsTheDocumentedSchedule recomputes a stream key from the
// exporter as the package documentation gives it.
func TestDeriveFollowsTheDocumentedSchedule(t *testing.T) {
	t.Parallel()
	a, b := handshake(t)
	is, _, rs, _ := derive(t, a, b, LabelScreen)
	for _, c := range []struct {
		dir  string
		seal *Sealer
	}{{"initiator->responder", is}, {"responder->initiator", rs}} {
		key, err := hkdf.Expand(sha256.New, a.Exporter, "tether-e2e-v1 stream\x00tether screen v1\x00"+c.dir, 32)
		if err != nil {
			t.Fatal(err)
		}
		o, err := newOpener(key, testParams(detDeviceKey(1)).SessionID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Open(nil, nil, seal(t, c.seal, nil, []byte("x"))); err != nil {
			t.Errorf("%s: the documented key does not open the stream: %v", c.dir, err)
		}
	}
}

func TestDeriveRefusals(t *testing.T) {
	t.Parallel()
	a, _ := handshake(t)
	if _, _, err := a.Derive(testLabel); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, label string
		s           *Session
		want        error
	}{
		{"same label twice", testLabel, a, ErrLabel},
		{"empty", "", a, ErrLabel},
		{"65 bytes", strings.Repeat("x", 65), a, ErrLabel},
		{"zero byte", "tether\x00screen v1", a, ErrLabel},
		{"newline", "tether screen v1\n", a, ErrLabel},
		{"not ASCII", "tether écran v1", a, ErrLabel},
		{"DEL", "tether screen v1\x7f", a, ErrLabel},
		{"zero Session", LabelScreen, &Session{}, ErrState},
		{"nil Session", LabelScreen, nil, ErrState},
	} {
		if _, _, err := c.s.Derive(c.label); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if _, _, err := a.Derive(strings.Repeat("x", 64)); err != nil {
		t.Errorf("64-byte label: %v", err)
	}
}

// TestDeriveOnceUnderConcurrency derives one label from many goroutines:
// exactly one gets the keys.
func TestDeriveOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	a, _ := handshake(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 16 {
		wg.Go(func() {
			if _, _, err := a.Derive(LabelScreen); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != 1 {
		t.Fatalf("%d goroutines derived the same stream, want 1", ok)
	}
}
