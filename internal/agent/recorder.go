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

// recSender sends what the encrypting writer produces to the relay as
// FrameRecording frames, from the goroutine that produced it (the output
// pump, or the flush timer), so no thread hand-off is needed per chunk. A
// chunk completes once per 64 KiB of output, so a keystroke's echo almost
// never waits behind one. After an error it only reports that error.
type recSender struct {
	conn  *transport.Conn
	frame []byte
	err   error
}

// recPiece is the most recording bytes one frame carries: a whole sealed
// chunk (prefix, 64 KiB, tag) fits, so each chunk is one frame.
const recPiece = protocol.MaxFrame - 1

// recSendTimeout bounds how long one recording frame may take to send.
const recSendTimeout = 30 * time.Second

func newRecSender(c *transport.Conn) *recSender { return &recSender{conn: c} }

// Write sends p as one or more FrameRecording frames. The recorder's lock
// serialises calls.
func (s *recSender) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	for off := 0; off < len(p); off += recPiece {
		end := min(off+recPiece, len(p))
		s.frame = append(append(s.frame[:0], byte(protocol.FrameRecording)), p[off:end]...)
		ctx, cancel := context.WithTimeout(context.Background(), recSendTimeout)
		err := s.conn.WriteFrame(ctx, s.frame)
		cancel()
		if err != nil {
			s.err = fmt.Errorf("send recording to relay: %w", err)
			return off, s.err
		}
	}
	return len(p), nil
}

// close reports whether everything was sent.
func (s *recSender) close() error { return s.err }

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
