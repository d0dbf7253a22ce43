// Package filepipe overlaps a file transfer's disk and hashing work with its
// network work. A transfer's sender reads, hashes and then seals and sends
// each chunk; its receiver opens each chunk and then writes and hashes it.
// Done in one goroutine, each side's steps take turns on one core; with
// Read and Writer the disk and SHA-256 half runs on a goroutine of its own,
// a few chunks ahead of (or behind) the network half.
package filepipe

import (
	"errors"
	"hash"
	"io"
	"sync"
)

// Depth is how many pieces may wait between the two halves.
const Depth = 4

// PieceChunks is how many chunks travel between the two halves at once.
// Every hand-off may wake a sleeping thread on the other CPU, which on the
// machines we measured cost more than hashing the chunk; handing over
// sixteen at a time makes that rare.
const PieceChunks = 16

// Read reads r in pieces of PieceChunks chunks on a goroutine of its own,
// hashing each into h, and calls send with each chunk of up to size bytes,
// in order, on the caller's goroutine; a chunk is valid until send
// returns. It returns nil at the end of r, or the first error of either
// side; a failed send stops the reading. When Read returns, h holds
// exactly the bytes passed to send, unless it returns an error.
func Read(r io.Reader, h hash.Hash, size int, send func([]byte) error) error {
	type piece struct {
		b   []byte
		err error
	}
	full := make(chan piece, Depth)
	free := make(chan []byte, Depth)
	for range Depth {
		free <- make([]byte, size*PieceChunks)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(full)
		for {
			var b []byte
			select {
			case b = <-free:
			case <-stop:
				return
			}
			n, err := io.ReadFull(r, b)
			if errors.Is(err, io.ErrUnexpectedEOF) {
				err = io.EOF
			}
			h.Write(b[:n])
			select {
			case full <- piece{b[:n], err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); <-done }()
	for p := range full {
		for b := p.b; len(b) > 0; {
			n := min(size, len(b))
			if err := send(b[:n]); err != nil {
				return err
			}
			b = b[n:]
		}
		if p.err == io.EOF {
			return nil
		}
		if p.err != nil {
			return p.err
		}
		free <- p.b[:cap(p.b)]
	}
	return errors.New("filepipe: reader stopped")
}

// A Writer writes to w and hashes into h on a goroutine of its own, so the
// caller can go back to the network while the disk works. Write copies its
// argument, so the caller may reuse it at once; the copies go to the
// goroutine PieceChunks chunks at a time.
type Writer struct {
	q     chan []byte // a nil entry ends the stream
	free  chan []byte
	piece int           // bytes handed over at once
	cur   []byte        // the piece being filled by Write
	stop  chan struct{} // closed by Abort
	once  sync.Once
	done  chan struct{}

	mu  sync.Mutex
	err error
}

// ErrAborted is returned by Write after Abort.
var ErrAborted = errors.New("filepipe: transfer aborted")

// NewWriter starts a Writer for a stream written in chunks of about size
// bytes.
func NewWriter(w io.Writer, h hash.Hash, size int) *Writer {
	s := &Writer{q: make(chan []byte, Depth), free: make(chan []byte, Depth+1), piece: size * PieceChunks,
		stop: make(chan struct{}), done: make(chan struct{})}
	go s.run(w, h)
	return s
}

func (s *Writer) run(w io.Writer, h hash.Hash) {
	defer close(s.done)
	for {
		var b []byte
		select {
		case b = <-s.q:
		case <-s.stop:
			return
		}
		if b == nil {
			return
		}
		if s.failed() == nil {
			if _, err := w.Write(b); err != nil {
				s.mu.Lock()
				s.err = err
				s.mu.Unlock()
			} else {
				h.Write(b)
			}
		}
		select {
		case s.free <- b[:0]:
		default:
		}
	}
}

// Write queues a copy of p. It returns an error the writing goroutine met
// earlier (the data written so far is then incomplete), or ErrAborted.
func (s *Writer) Write(p []byte) (int, error) {
	if err := s.failed(); err != nil {
		return 0, err
	}
	for off := 0; off < len(p); {
		if s.cur == nil {
			select {
			case s.cur = <-s.free:
			default:
				s.cur = make([]byte, 0, s.piece)
			}
		}
		n := copy(s.cur[len(s.cur):cap(s.cur)], p[off:])
		s.cur = s.cur[:len(s.cur)+n]
		off += n
		if len(s.cur) == cap(s.cur) {
			if err := s.handOver(); err != nil {
				return off, err
			}
		}
	}
	return len(p), nil
}

// handOver queues the current piece.
func (s *Writer) handOver() error {
	select {
	case s.q <- s.cur:
		s.cur = nil
		return nil
	case <-s.stop:
		return ErrAborted
	}
}

func (s *Writer) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Close waits until everything queued is written and returns the first
// error (ErrAborted after Abort). It must not run at the same time as
// Write.
func (s *Writer) Close() error {
	if len(s.cur) > 0 && s.handOver() != nil {
		<-s.done
		return ErrAborted
	}
	select {
	case s.q <- nil:
	case <-s.stop:
	}
	<-s.done
	select {
	case <-s.stop:
		return ErrAborted
	default:
		return s.failed()
	}
}

// Abort drops what is still queued and waits for the goroutine to stop. It
// may be called at any time, from any goroutine, more than once; a Write
// running meanwhile returns ErrAborted.
func (s *Writer) Abort() {
	s.once.Do(func() { close(s.stop) })
	<-s.done
}
