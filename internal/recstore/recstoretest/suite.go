// Package recstoretest is the conformance suite every recstore.Store
// implementation passes.
package recstoretest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/recstore"
)

// Run runs the suite against the stores open returns: each call a fresh,
// empty store. partSize is the store's upload part size (0 if it has none);
// the suite writes recordings larger than several parts.
func Run(t *testing.T, open func(t *testing.T) recstore.Store, partSize int) {
	tests := []struct {
		name string
		fn   func(*testing.T, recstore.Store, int)
	}{
		{"RoundTrip", testRoundTrip},
		{"Multipart", testMultipart},
		{"Empty", testEmpty},
		{"NoOverwrite", testNoOverwrite},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"List", testList},
		{"Seek", testSeek},
		{"BadID", testBadID},
		{"RecoverNothing", testRecoverNothing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t), partSize) })
	}
}

// Put writes b as recording id in pieces of at most piece bytes.
func Put(t *testing.T, s recstore.Store, id ids.SessionID, b []byte, piece int) {
	t.Helper()
	w, err := s.Create(context.Background(), id)
	if err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	for len(b) > 0 {
		n := min(piece, len(b))
		if k, err := w.Write(b[:n]); err != nil || k != n {
			t.Fatalf("write: %d, %v", k, err)
		}
		b = b[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// Get reads recording id whole.
func Get(t *testing.T, s recstore.Store, id ids.SessionID) []byte {
	t.Helper()
	o, err := s.Open(context.Background(), id)
	if err != nil {
		t.Fatalf("open %s: %v", id, err)
	}
	defer o.Close()
	b, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("read %s: %v", id, err)
	}
	if o.Info().Size != int64(len(b)) || o.Info().ID != id {
		t.Fatalf("info %+v, read %d bytes", o.Info(), len(b))
	}
	return b
}

func random(n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(n)})
	r.Read(b)
	return b
}

func testRoundTrip(t *testing.T, s recstore.Store, _ int) {
	id := ids.NewSessionID()
	want := random(100_000)
	Put(t, s, id, want, 777)
	if got := Get(t, s, id); !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, differ from the %d written", len(got), len(want))
	}
}

func testMultipart(t *testing.T, s recstore.Store, part int) {
	if part == 0 {
		part = 64 << 10
	}
	id := ids.NewSessionID()
	want := random(3*part + part/3)
	Put(t, s, id, want, part/5+13) // pieces straddle part boundaries
	if got := Get(t, s, id); !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, differ from the %d written", len(got), len(want))
	}
	id2 := ids.NewSessionID()
	exact := random(2 * part)
	Put(t, s, id2, exact, part) // ends exactly on a part boundary
	if got := Get(t, s, id2); !bytes.Equal(got, exact) {
		t.Fatal("a recording of exactly two parts reads back different")
	}
}

func testEmpty(t *testing.T, s recstore.Store, _ int) {
	id := ids.NewSessionID()
	Put(t, s, id, nil, 1)
	if got := Get(t, s, id); len(got) != 0 {
		t.Fatalf("empty recording reads %d bytes", len(got))
	}
}

func testNoOverwrite(t *testing.T, s recstore.Store, _ int) {
	id := ids.NewSessionID()
	Put(t, s, id, []byte("first"), 5)
	if _, err := s.Create(context.Background(), id); !errors.Is(err, recstore.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	if got := Get(t, s, id); string(got) != "first" {
		t.Fatalf("recording now %q", got)
	}
}

func testMissing(t *testing.T, s recstore.Store, _ int) {
	if _, err := s.Open(context.Background(), ids.NewSessionID()); !errors.Is(err, recstore.ErrNotFound) {
		t.Fatalf("open missing: %v, want ErrNotFound", err)
	}
	if err := s.Delete(context.Background(), ids.NewSessionID()); err != nil {
		t.Fatalf("delete missing: %v", err)
	}
}

func testDelete(t *testing.T, s recstore.Store, _ int) {
	a, b := ids.NewSessionID(), ids.NewSessionID()
	Put(t, s, a, []byte("a"), 1)
	Put(t, s, b, []byte("b"), 1)
	if err := s.Delete(context.Background(), a); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(context.Background(), a); !errors.Is(err, recstore.ErrNotFound) {
		t.Fatalf("open deleted: %v", err)
	}
	if got := Get(t, s, b); string(got) != "b" {
		t.Fatalf("the other recording reads %q", got)
	}
}

func testList(t *testing.T, s recstore.Store, _ int) {
	l, err := s.List(context.Background())
	if err != nil || len(l) != 0 {
		t.Fatalf("fresh store lists %v, %v", l, err)
	}
	want := map[ids.SessionID]int64{}
	for i := range 3 {
		id := ids.NewSessionID()
		Put(t, s, id, random(10*i+1), 4)
		want[id] = int64(10*i + 1)
	}
	l, err = s.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != len(want) {
		t.Fatalf("lists %d recordings, want %d", len(l), len(want))
	}
	for _, in := range l {
		if want[in.ID] != in.Size || in.ModTime.IsZero() {
			t.Fatalf("lists %+v, want size %d", in, want[in.ID])
		}
	}
}

func testSeek(t *testing.T, s recstore.Store, _ int) {
	id := ids.NewSessionID()
	want := random(5000)
	Put(t, s, id, want, 5000)
	o, err := s.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if n, err := o.Seek(0, io.SeekEnd); err != nil || n != 5000 {
		t.Fatalf("seek end: %d, %v", n, err)
	}
	if _, err := o.Seek(4000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(o)
	if err != nil || !bytes.Equal(got, want[4000:]) {
		t.Fatalf("after seek read %d bytes (%v)", len(got), err)
	}
}

func testBadID(t *testing.T, s recstore.Store, _ int) {
	for _, id := range []ids.SessionID{"../x", "", "ABC", "a/b"} {
		if _, err := s.Create(context.Background(), id); err == nil {
			t.Fatalf("create %q accepted", id)
		}
		if _, err := s.Open(context.Background(), id); !errors.Is(err, recstore.ErrNotFound) {
			t.Fatalf("open %q: %v", id, err)
		}
	}
}

func testRecoverNothing(t *testing.T, s recstore.Store, _ int) {
	id := ids.NewSessionID()
	Put(t, s, id, []byte("whole"), 5)
	kept, discarded, err := s.Recover(context.Background(), func(ids.SessionID) bool { return true })
	if err != nil || kept != 0 || discarded != 0 {
		t.Fatalf("recover with nothing unfinished: %d kept, %d discarded, %v", kept, discarded, err)
	}
	if got := Get(t, s, id); string(got) != "whole" {
		t.Fatalf("after recover %q", got)
	}
}
