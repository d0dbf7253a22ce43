package filepipe

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"
)

func random(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestReadSendsEverythingInOrderAndHashesIt(t *testing.T) {
	for _, n := range []int{0, 1, 999, 1000, 1001, 64 << 10, 1<<20 + 3} {
		data := random(t, n)
		h := sha256.New()
		var got bytes.Buffer
		err := Read(bytes.NewReader(data), h, 1000, func(b []byte) error {
			if len(b) > 1000 {
				t.Fatalf("chunk of %d bytes, want at most 1000", len(b))
			}
			got.Write(b)
			return nil
		})
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		want := sha256.Sum256(data)
		if !bytes.Equal(got.Bytes(), data) || !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("%d bytes: data or hash differ", n)
		}
	}
}

type failingReader struct{ after int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.after <= 0 {
		return 0, errors.New("disk on fire")
	}
	n := min(len(p), r.after)
	r.after -= n
	return n, nil
}

func TestReadReportsReadErrors(t *testing.T) {
	sent := 0
	err := Read(&failingReader{after: 2500}, sha256.New(), 1000, func(b []byte) error {
		sent += len(b)
		return nil
	})
	if err == nil || err.Error() != "disk on fire" {
		t.Fatalf("got %v, want the read error", err)
	}
	if sent != 2500 {
		t.Fatalf("sent %d bytes before the error, want all 2500 read", sent)
	}
}

func TestReadStopsAtASendError(t *testing.T) {
	calls := 0
	stop := errors.New("connection lost")
	err := Read(bytes.NewReader(random(t, 1<<20)), sha256.New(), 1000, func([]byte) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("got %v after %d sends, want the send error after 1", err, calls)
	}
}

func TestWriterWritesEverythingInOrderAndHashesIt(t *testing.T) {
	var out bytes.Buffer
	h := sha256.New()
	w := NewWriter(&out, h, 1000)
	var want bytes.Buffer
	buf := make([]byte, 2500)
	for i := range 50 {
		p := buf[:i*50]
		rand.Read(p)
		want.Write(p)
		if n, err := w.Write(p); err != nil || n != len(p) {
			t.Fatalf("Write = %d, %v", n, err)
		}
		rand.Read(buf) // the caller reuses its buffer at once
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(want.Bytes())
	if !bytes.Equal(out.Bytes(), want.Bytes()) || !bytes.Equal(h.Sum(nil), sum[:]) {
		t.Fatal("data or hash differ")
	}
}

type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n+len(p) > 3000 {
		return 0, errors.New("disk full")
	}
	w.n += len(p)
	return len(p), nil
}

func TestWriterReportsWriteErrors(t *testing.T) {
	w := NewWriter(&failingWriter{}, sha256.New(), 1000)
	var err error
	for range 100 {
		if _, err = w.Write(make([]byte, 1000)); err != nil {
			break
		}
	}
	if cerr := w.Close(); cerr == nil || cerr.Error() != "disk full" {
		t.Fatalf("Close = %v, want disk full", cerr)
	}
	if err != nil && err.Error() != "disk full" {
		t.Fatalf("Write = %v, want disk full or nil", err)
	}
}

// blockingWriter holds every write until released.
type blockingWriter struct{ release chan struct{} }

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	return len(p), nil
}

func TestWriterAbortStopsAWriteInProgress(t *testing.T) {
	bw := &blockingWriter{release: make(chan struct{})}
	w := NewWriter(bw, sha256.New(), 1000)
	errc := make(chan error, 1)
	go func() {
		var err error
		for err == nil {
			_, err = w.Write(make([]byte, 1000)) // soon blocks: the queue is full
		}
		errc <- err
	}()
	aborted := make(chan struct{})
	go func() { w.Abort(); close(aborted) }()
	close(bw.release)
	<-aborted
	if err := <-errc; !errors.Is(err, ErrAborted) {
		t.Fatalf("Write after Abort = %v, want ErrAborted", err)
	}
	w.Abort() // again: harmless
	if err := w.Close(); !errors.Is(err, ErrAborted) {
		t.Fatalf("Close after Abort = %v, want ErrAborted", err)
	}
}
