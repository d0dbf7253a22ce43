package agent

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"tether/internal/protocol"
	"tether/internal/transport"
	"tether/recordings"
)

// flushEvery bounds how much of a session a crash can lose: the recording
// is sealed and sent at least this often (and at every 64 KiB).
const flushEvery = 2 * time.Second

// recorder records a session as asciicast v2, encrypted on this machine to
// the reviewers' keys, and streams the ciphertext to the relay as it goes.
// Safe for concurrent use. A nil *recorder records nothing.
type recorder struct {
	mu     sync.Mutex
	conn   *transport.Conn
	send   *recSender
	enc    *recordings.Writer
	cast   *recordings.CastWriter
	input  bool
	err    error
	stop   chan struct{}
	closed bool
}

// newRecorder starts the recording of info's session on conn.
func newRecorder(conn *transport.Conn, info protocol.SessionInfo) (*recorder, error) {
	if !recordingBuiltIn {
		return nil, nil // bench-only build (tag tether_norecord)
	}
	if len(info.Recipients) == 0 {
		return nil, errors.New("the relay named no recording recipient; refusing an unrecorded session")
	}
	var rcpts []*recordings.Recipient
	for _, k := range info.Recipients {
		r, err := recordings.ParseRecipient(k)
		if err != nil {
			return nil, fmt.Errorf("recording recipient: %w", err)
		}
		rcpts = append(rcpts, r)
	}
	var sid [16]byte
	if b, err := hex.DecodeString(info.ID); err == nil && len(b) == 16 {
		copy(sid[:], b)
	}
	rec := &recorder{conn: conn, input: info.RecordInput, stop: make(chan struct{})}
	t := time.Now()
	rec.send = newRecSender(conn)
	enc, err := recordings.NewWriter(rec.send, sid, t, rcpts...)
	if err != nil {
		rec.send.close()
		return nil, fmt.Errorf("start recording: %w", err)
	}
	rec.enc = enc
	h := recordings.CastHeader{Version: 2, Width: 80, Height: 24, Timestamp: t.Unix(),
		Title: "Tether session " + info.ID, Env: map[string]string{"TERM": "xterm-256color"}}
	if rec.cast, err = recordings.NewCastWriter(enc, h, t); err != nil {
		rec.send.close()
		return nil, fmt.Errorf("start recording: %w", err)
	}
	go rec.flushLoop()
	return rec, nil
}

// recSender sends what the encrypting writer produces to the relay, in
// frames no larger than the protocol allows, from its own goroutine: sealing
// and sending a chunk never holds up the session's output (a keystroke's
// echo does not wait behind a 64 KiB recording chunk being written). At most
// recQueue pieces wait; beyond that Write blocks, so memory stays bounded.
// Frame buffers are reused.
type recSender struct {
	conn *transport.Conn
	q    chan []byte
	free chan []byte
	done chan struct{}
	mu   sync.Mutex
	err  error
}

const (
	recQueue = 16
	// recPiece is the most recording bytes one frame carries: a whole
	// sealed chunk (prefix, 64 KiB, tag) fits, so each chunk is one frame.
	recPiece = protocol.MaxFrame - 1
)

func newRecSender(c *transport.Conn) *recSender {
	s := &recSender{conn: c, q: make(chan []byte, recQueue), free: make(chan []byte, recQueue+1), done: make(chan struct{})}
	go s.run()
	return s
}

// Write queues p as one or more FrameRecording frames.
func (s *recSender) Write(p []byte) (int, error) {
	if err := s.failed(); err != nil {
		return 0, err
	}
	for off := 0; off < len(p); off += recPiece {
		end := min(off+recPiece, len(p))
		var frame []byte
		select {
		case frame = <-s.free:
		default:
			frame = make([]byte, 0, 1+recPiece)
		}
		s.q <- append(append(frame[:0], byte(protocol.FrameRecording)), p[off:end]...)
	}
	return len(p), nil
}

// run writes queued frames in order; after an error it only drains.
func (s *recSender) run() {
	defer close(s.done)
	for f := range s.q {
		if s.failed() == nil {
			s.send(f)
		}
		select {
		case s.free <- f:
		default:
		}
	}
}

func (s *recSender) send(f []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.conn.WriteFrame(ctx, f); err != nil {
		s.mu.Lock()
		s.err = fmt.Errorf("send recording to relay: %w", err)
		s.mu.Unlock()
	}
}

func (s *recSender) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// close waits until everything queued was sent; no Write may follow.
func (s *recSender) close() error {
	close(s.q)
	<-s.done
	return s.failed()
}

// flushLoop seals what is buffered every flushEvery.
func (r *recorder) flushLoop() {
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.do(func() error { return r.enc.Flush() })
		}
	}
}

// do runs fn under the lock unless the recorder failed or closed, keeping
// the first error.
func (r *recorder) do(fn func() error) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil || r.closed {
		return r.err
	}
	r.err = fn()
	return r.err
}

func (r *recorder) output(b []byte) error {
	return r.do(func() error { return r.cast.Output(time.Now(), b) })
}

func (r *recorder) inputEvent(b []byte) error {
	if r == nil || !r.input {
		return nil
	}
	return r.do(func() error { return r.cast.Input(time.Now(), b) })
}

func (r *recorder) resize(cols, rows int) error {
	return r.do(func() error { return r.cast.Resize(time.Now(), cols, rows) })
}

func (r *recorder) marker(format string, args ...any) error {
	return r.do(func() error { return r.cast.Marker(time.Now(), fmt.Sprintf(format, args...)) })
}

// close writes the final chunk and tells the relay the recording is whole.
func (r *recorder) close(reason string) error {
	if r == nil {
		return nil
	}
	r.marker("end: %s", reason)
	err := r.do(func() error {
		if err := r.cast.Close(); err != nil {
			return err
		}
		return r.enc.Close()
	})
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	close(r.stop)
	if serr := r.send.close(); err == nil {
		err = serr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err != nil {
		r.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlRecordingFailed, Error: err.Error()})
		return err
	}
	return r.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlRecordingDone})
}

// capsLabel is the marker text for a set of capabilities.
func capsLabel(caps []string) string { return strings.Join(caps, ",") }
