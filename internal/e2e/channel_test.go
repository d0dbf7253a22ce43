package e2e

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

var (
	testKey       = bytes.Repeat([]byte{0x42}, 32)
	testSessionID = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
)

// newPair returns a Sealer and the matching Opener over testKey.
func newPair(tb testing.TB) (*Sealer, *Opener) {
	tb.Helper()
	s, err := newSealer(testKey, testSessionID)
	if err != nil {
		tb.Fatal(err)
	}
	o, err := newOpener(testKey, testSessionID)
	if err != nil {
		tb.Fatal(err)
	}
	return s, o
}

func seal(tb testing.TB, s *Sealer, aad, msg []byte) []byte {
	tb.Helper()
	frame, err := s.Seal(nil, aad, msg)
	if err != nil {
		tb.Fatalf("Seal: %v", err)
	}
	return frame
}

func TestChannelRoundTrip(t *testing.T) {
	s, o := newPair(t)
	if got := s.Overhead(); got != 24 {
		t.Errorf("Overhead: got %d, want 24", got)
	}
	tests := []struct {
		name     string
		aad, msg []byte
	}{
		{"empty", nil, nil},
		{"frame type", []byte{7}, []byte("ls -la\n")},
		{"long aad", bytes.Repeat([]byte{9}, 100), []byte("x")},
		{"16 KiB", []byte{1}, bytes.Repeat([]byte("abcdefgh"), 2048)},
	}
	for _, tt := range tests {
		prefix := []byte("prefix")
		frame, err := s.Seal(prefix, tt.aad, tt.msg)
		if err != nil {
			t.Fatalf("%s: Seal: %v", tt.name, err)
		}
		if !bytes.HasPrefix(frame, prefix) {
			t.Fatalf("%s: Seal did not append to dst", tt.name)
		}
		frame = frame[len(prefix):]
		if got, want := len(frame), len(tt.msg)+s.Overhead(); got != want {
			t.Errorf("%s: got frame of %d bytes, want %d", tt.name, got, want)
		}
		got, err := o.Open([]byte("out:"), tt.aad, frame)
		if err != nil {
			t.Fatalf("%s: Open: %v", tt.name, err)
		}
		if want := append([]byte("out:"), tt.msg...); !bytes.Equal(got, want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, want)
		}
	}
}

func TestOpenInPlace(t *testing.T) {
	s, o := newPair(t)
	frame := seal(t, s, nil, []byte("in place"))
	got, err := o.Open(frame[seqSize:seqSize], nil, frame)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if string(got) != "in place" {
		t.Errorf("got %q, want %q", got, "in place")
	}
}

func TestOpenErrors(t *testing.T) {
	otherSession := testSessionID
	otherSession[0] ^= 1
	tests := []struct {
		name string
		// attack gets frames 0..2 sealed with aad {1} and feeds o.
		attack func(t *testing.T, o *Opener, frames [][]byte) error
		want   error
	}{
		{"replayed", func(t *testing.T, o *Opener, f [][]byte) error {
			mustOpen(t, o, f[0])
			_, err := o.Open(nil, []byte{1}, f[0])
			return err
		}, ErrReplayed},
		{"reordered", func(t *testing.T, o *Opener, f [][]byte) error {
			mustOpen(t, o, f[0])
			_, err := o.Open(nil, []byte{1}, f[2])
			return err
		}, ErrOutOfOrder},
		{"dropped first", func(t *testing.T, o *Opener, f [][]byte) error {
			_, err := o.Open(nil, []byte{1}, f[1])
			return err
		}, ErrOutOfOrder},
		{"altered ciphertext", func(t *testing.T, o *Opener, f [][]byte) error {
			f[0][seqSize] ^= 0x80
			_, err := o.Open(nil, []byte{1}, f[0])
			return err
		}, ErrAuthentication},
		{"altered tag", func(t *testing.T, o *Opener, f [][]byte) error {
			f[0][len(f[0])-1] ^= 1
			_, err := o.Open(nil, []byte{1}, f[0])
			return err
		}, ErrAuthentication},
		{"altered seq", func(t *testing.T, o *Opener, f [][]byte) error {
			// Frame 0 relabelled as the expected frame 1.
			mustOpen(t, o, f[0])
			binary.BigEndian.PutUint64(f[0], 1)
			_, err := o.Open(nil, []byte{1}, f[0])
			return err
		}, ErrAuthentication},
		{"altered aad", func(t *testing.T, o *Opener, f [][]byte) error {
			_, err := o.Open(nil, []byte{2}, f[0])
			return err
		}, ErrAuthentication},
		{"missing aad", func(t *testing.T, o *Opener, f [][]byte) error {
			_, err := o.Open(nil, nil, f[0])
			return err
		}, ErrAuthentication},
		{"truncated to nothing", func(t *testing.T, o *Opener, f [][]byte) error {
			_, err := o.Open(nil, []byte{1}, nil)
			return err
		}, ErrTruncated},
		{"truncated below overhead", func(t *testing.T, o *Opener, f [][]byte) error {
			_, err := o.Open(nil, []byte{1}, f[0][:frameOverhead-1])
			return err
		}, ErrTruncated},
		{"truncated tag", func(t *testing.T, o *Opener, f [][]byte) error {
			_, err := o.Open(nil, []byte{1}, f[0][:len(f[0])-1])
			return err
		}, ErrAuthentication},
		{"other session", func(t *testing.T, _ *Opener, f [][]byte) error {
			o, err := newOpener(testKey, otherSession)
			if err != nil {
				t.Fatal(err)
			}
			_, err = o.Open(nil, []byte{1}, f[0])
			return err
		}, ErrAuthentication},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, o := newPair(t)
			var frames [][]byte
			for k := range 3 {
				frames = append(frames, seal(t, s, []byte{1}, []byte{'m', byte(k)}))
			}
			err := tt.attack(t, o, frames)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			checkStaysFailed(t, s, o, err)
		})
	}
}

func mustOpen(t *testing.T, o *Opener, frame []byte) {
	t.Helper()
	if _, err := o.Open(nil, []byte{1}, frame); err != nil {
		t.Fatalf("Open of a genuine frame: %v", err)
	}
}

// checkStaysFailed feeds a failed Opener a fresh genuine frame and expects
// the original error back.
func checkStaysFailed(t *testing.T, s *Sealer, o *Opener, first error) {
	t.Helper()
	if o.err == nil {
		return // the attack used its own Opener
	}
	frame := seal(t, s, []byte{1}, []byte("later"))
	for range 2 {
		got, err := o.Open(nil, []byte{1}, frame)
		if err != first || got != nil {
			t.Errorf("Open after failure: got (%q, %v), want (nil, %v)", got, err, first)
		}
	}
}

func TestWrongDirectionKey(t *testing.T) {
	is, rs := handshake(t)
	frame := seal(t, is.Send, nil, []byte("to responder"))
	if got, err := rs.Recv.Open(nil, nil, frame); err != nil || string(got) != "to responder" {
		t.Errorf("responder: got (%q, %v), want (%q, nil)", got, err, "to responder")
	}
	if _, err := is.Recv.Open(nil, nil, frame); !errors.Is(err, ErrAuthentication) {
		t.Errorf("initiator opening its own frame: got %v, want %v", err, ErrAuthentication)
	}
	seal(t, rs.Send, nil, []byte("seq 0"))
	back := seal(t, rs.Send, nil, []byte("seq 1, which rs.Recv expects next"))
	if _, err := rs.Recv.Open(nil, nil, back); !errors.Is(err, ErrAuthentication) {
		t.Errorf("responder opening its own frame: got %v, want %v", err, ErrAuthentication)
	}
}

func TestSealExhausted(t *testing.T) {
	s, o := newPair(t)
	s.seq, o.seq = math.MaxUint64-1, math.MaxUint64-1
	frame := seal(t, s, nil, []byte("last"))
	if got := binary.BigEndian.Uint64(frame); got != math.MaxUint64-1 {
		t.Errorf("last frame: got seq %d, want %d", got, uint64(math.MaxUint64-1))
	}
	if got, err := o.Open(nil, nil, frame); err != nil || string(got) != "last" {
		t.Errorf("Open(last): got (%q, %v), want (%q, nil)", got, err, "last")
	}
	for range 2 {
		if _, err := s.Seal(nil, nil, []byte("x")); !errors.Is(err, ErrExhausted) {
			t.Errorf("Seal after 2^64-1 frames: got %v, want %v", err, ErrExhausted)
		}
	}
	// A forged frame claiming sequence 2^64-1 is still only out of order.
	forged := binary.BigEndian.AppendUint64(nil, math.MaxUint64)
	forged = append(forged, make([]byte, tagSize)...)
	if _, err := o.Open(nil, nil, forged); !errors.Is(err, ErrAuthentication) {
		t.Errorf("Open(forged last seq): got %v, want %v", err, ErrAuthentication)
	}
}

func TestChannelZeroValues(t *testing.T) {
	if _, err := new(Sealer).Seal(nil, nil, nil); !errors.Is(err, ErrState) {
		t.Errorf("zero Sealer: got %v, want %v", err, ErrState)
	}
	if _, err := new(Opener).Open(nil, nil, make([]byte, 64)); !errors.Is(err, ErrState) {
		t.Errorf("zero Opener: got %v, want %v", err, ErrState)
	}
	var s *Sealer
	if _, err := s.Seal(nil, nil, nil); !errors.Is(err, ErrState) {
		t.Errorf("nil Sealer: got %v, want %v", err, ErrState)
	}
}

func TestSealOpenAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are not meaningful under the race detector")
	}
	s, o := newPair(t)
	msg := make([]byte, 16<<10)
	aad := []byte{3}
	frame := make([]byte, 0, len(msg)+s.Overhead())
	plain := make([]byte, 0, len(msg))
	// Warm up so the associated-data buffer has its final size.
	frame, _ = s.Seal(frame[:0], aad, msg)
	if _, err := o.Open(plain[:0], aad, frame); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		frame, _ = s.Seal(frame[:0], aad, msg)
		if _, err := o.Open(plain[:0], aad, frame); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Seal+Open: got %v allocations per frame, want 0", allocs)
	}
}
