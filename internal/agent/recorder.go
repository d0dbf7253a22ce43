package agent

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/recordings"
)

// defaultFlushEvery bounds how much of a session a crash can lose: the
// recording is sealed and sent at least this often (and at every 64 KiB).
const defaultFlushEvery = 2 * time.Second

// flushEveryEnv lets tests have the recording sealed and sent more often
// (10ms up to defaultFlushEvery); it is not meant for production use. It
// can only shorten the interval, so it never lets a crash lose more.
const flushEveryEnv = "TETHER_AGENT_TEST_FLUSH_EVERY"

// flushEvery is defaultFlushEvery, or the shorter interval flushEveryEnv says.
func flushEvery() time.Duration {
	if d, err := time.ParseDuration(os.Getenv(flushEveryEnv)); err == nil && d >= 10*time.Millisecond && d < defaultFlushEvery {
		return d
	}
	return defaultFlushEvery
}

// recorder records a session as asciicast v2, encrypted on this machine to
// the reviewers' keys, and streams the ciphertext to the relay as it goes.
// Safe for concurrent use. A nil *recorder records nothing.
//
// Callers only queue events (a copy of the bytes and the time); a worker
// goroutine encodes, seals and sends them, woken once per recBatch of
// queued bytes and every flushEvery. The output pump, which is the
// bottleneck of bulk terminal output, so spends one copy per message on the
// recording instead of encoding, sealing and sending it.
type recorder struct {
	mu      sync.Mutex
	room    *sync.Cond // the worker took the queue, or the recorder stopped
	events  []recEvent
	arena   []byte // the events' bytes, in order
	closing bool
	err     error // the first failure
	wake    chan struct{}
	done    chan struct{} // the worker finished
	input   bool

	// The worker's alone once started.
	conn *transport.Conn
	enc  *recordings.Writer
	cast *recordings.CastWriter
	desk *recordings.DesktopWriter // set once the desktop stream started
}

// recEvent is one queued event; its bytes (output, input or marker text)
// are the next n bytes of the arena.
type recEvent struct {
	t          time.Time
	kind       byte // 'o', 'i', 'r', 'm', or a screen kind (screenKind)
	n          int
	cols, rows int
}

const (
	// recBatch is how many queued bytes wake the worker: four chunks'
	// worth. Each wake-up is a thread woken on the other CPU and put back
	// to sleep; once per chunk, they cost more than the encoding itself.
	recBatch = 4 * recordings.ChunkSize
	// recQueueMax bounds the queue; beyond it callers wait for the worker.
	recQueueMax = 16 * recordings.ChunkSize
)

// newRecorder starts the recording of session id on conn, encrypted to
// rcpts (see decidePolicy); with input, typed input is recorded too.
func newRecorder(conn *transport.Conn, id ids.SessionID, rcpts []*recordings.Recipient, input bool) (*recorder, error) {
	if !recordingBuiltIn {
		return nil, nil // bench-only build (tag tether_norecord)
	}
	rec, err := startRecorder(newRecSender(conn), id, rcpts, input)
	if err != nil {
		return nil, err
	}
	rec.conn = conn
	return rec, nil
}

// startRecorder starts a recording of session id whose ciphertext goes to
// w (the relay, through a recSender) and its worker; close needs conn set.
func startRecorder(w io.Writer, id ids.SessionID, rcpts []*recordings.Recipient, input bool) (*recorder, error) {
	var sid [16]byte
	if b, err := id.Bytes(); err == nil {
		sid = b
	}
	rec := &recorder{input: input, wake: make(chan struct{}, 1), done: make(chan struct{})}
	rec.room = sync.NewCond(&rec.mu)
	t := time.Now()
	enc, err := recordings.NewWriter(w, sid, t, rcpts...)
	if err != nil {
		return nil, fmt.Errorf("start recording: %w", err)
	}
	rec.enc = enc
	h := recordings.CastHeader{Version: 2, Width: 80, Height: 24, Timestamp: t.Unix(),
		Title: "Tether session " + id.String(), Env: map[string]string{"TERM": "xterm-256color"}}
	if rec.cast, err = recordings.NewCastWriter(enc, h, t); err != nil {
		return nil, fmt.Errorf("start recording: %w", err)
	}
	go rec.work()
	return rec, nil
}

// recSender sends what the encrypting writer produces to the relay as
// FrameRecording frames, from the recorder's worker. After an error it only
// reports that error.
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

// Write sends p as one or more FrameRecording frames.
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

// add queues one event with a copy of data. It returns the recorder's
// failure, if any; after close it drops the event.
func (r *recorder) add(ev recEvent, data []byte) error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.arena) >= recQueueMax && r.err == nil && !r.closing {
		r.room.Wait()
	}
	if r.err != nil || r.closing {
		return r.err
	}
	ev.n = len(data)
	r.events = append(r.events, ev)
	r.arena = append(r.arena, data...)
	if len(r.arena) >= recBatch {
		r.poke()
	}
	return nil
}

// poke wakes the worker if it is not already due to wake.
func (r *recorder) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// work encodes, seals and sends queued events until the recorder closes,
// sealing what is buffered at least every flushEvery.
func (r *recorder) work() {
	defer close(r.done)
	tick := time.NewTicker(flushEvery())
	defer tick.Stop()
	var evs []recEvent
	var arena []byte
	for {
		flush := false
		select {
		case <-r.wake:
		case <-tick.C:
			flush = true
		}
		r.mu.Lock()
		evs, r.events = r.events, evs[:0]
		arena, r.arena = r.arena, arena[:0]
		closing, failed := r.closing, r.err != nil
		r.room.Broadcast()
		r.mu.Unlock()
		if !failed {
			err := r.write(evs, arena)
			switch {
			case err != nil:
			case closing:
				err = r.finish()
			case flush:
				err = r.enc.Flush()
			}
			if err != nil {
				r.fail(err)
			}
		}
		if closing {
			return
		}
	}
}

// write encodes queued events into the recording.
func (r *recorder) write(evs []recEvent, arena []byte) error {
	for _, ev := range evs {
		data := arena[:ev.n:ev.n]
		arena = arena[ev.n:]
		if err := r.writeEvent(ev, data); err != nil {
			return err
		}
	}
	return nil
}

// writeEvent encodes one event: as asciicast until the first screen event,
// which switches the recording to the desktop stream for good.
func (r *recorder) writeEvent(ev recEvent, data []byte) error {
	if r.desk == nil && ev.kind >= screenKind {
		d, err := r.cast.Desktop()
		if err != nil {
			return err
		}
		r.desk = d
	}
	if r.desk != nil {
		return r.writeDesktop(ev, data)
	}
	var err error
	switch ev.kind {
	case 'o':
		err = r.cast.Output(ev.t, data)
	case 'i':
		err = r.cast.Input(ev.t, data)
	case 'r':
		err = r.cast.Resize(ev.t, ev.cols, ev.rows)
	case 'm':
		err = r.cast.Marker(ev.t, string(data))
	}
	return err
}

// writeDesktop encodes one event as desktop stream records.
func (r *recorder) writeDesktop(ev recEvent, data []byte) error {
	switch ev.kind {
	case 'o':
		return r.desk.Output(ev.t, data)
	case 'i':
		return r.desk.TermInput(ev.t, data)
	case 'r':
		return r.desk.Resize(ev.t, ev.cols, ev.rows)
	case 'm':
		return r.desk.Marker(ev.t, string(data))
	}
	return r.desk.Record(ev.t, recordings.RecordKind(ev.kind-screenKind), data)
}

// finish writes the final chunk.
func (r *recorder) finish() error {
	if r.desk == nil {
		if err := r.cast.Close(); err != nil {
			return err
		}
	}
	return r.enc.Close()
}

func (r *recorder) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = err
	}
	r.room.Broadcast()
}

func (r *recorder) output(b []byte) error {
	return r.add(recEvent{t: time.Now(), kind: 'o'}, b)
}

func (r *recorder) inputEvent(b []byte) error {
	if r == nil || !r.input {
		return nil
	}
	return r.add(recEvent{t: time.Now(), kind: 'i'}, b)
}

func (r *recorder) resize(cols, rows int) error {
	return r.add(recEvent{t: time.Now(), kind: 'r', cols: cols, rows: rows}, nil)
}

func (r *recorder) marker(format string, args ...any) error {
	return r.add(recEvent{t: time.Now(), kind: 'm'}, []byte(fmt.Sprintf(format, args...)))
}

// close records the end, waits until the worker sent the final chunk and
// tells the relay whether the recording is whole. Later calls only wait.
func (r *recorder) close(reason string) error {
	if r == nil {
		return nil
	}
	r.marker("end: %s", reason)
	again, err := r.stop()
	if again {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err != nil {
		r.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlRecordingFailed, Error: err.Error()})
		return err
	}
	return r.conn.WriteControl(ctx, &protocol.Control{Type: protocol.CtlRecordingDone})
}

// stop makes the worker write the final chunk and waits for it; it
// reports whether it had stopped before, and the recorder's failure.
func (r *recorder) stop() (again bool, err error) {
	r.mu.Lock()
	again = r.closing
	r.closing = true
	r.room.Broadcast()
	r.mu.Unlock()
	r.poke()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return again, r.err
}

// capsLabel is the marker text for a set of capabilities.
func capsLabel(caps []string) string { return strings.Join(caps, ",") }

// screenKind offsets the queue kinds of screen events: kind screenKind+k is
// recorded as a desktop record of kind k. The first one switches the
// recording from asciicast to the desktop stream (recordings/FORMAT.md §6.1).
const screenKind = 0x80

// screenUpdate records one screen update: the chunks exactly as sent to the
// viewer (keyframe false), or a keyframe made for the recording (keyframe
// true: a full, self-contained update of the frame last sent, whose ID is
// that frame's update ID; the live update after it restarts its zstd
// stream). The chunks are copied; the caller may reuse them.
func (r *recorder) screenUpdate(chunks [][]byte, keyframe bool) error {
	if r == nil {
		return nil
	}
	k := recordings.RecUpdate
	if keyframe {
		k = recordings.RecKeyframe
	}
	t := time.Now()
	for _, c := range chunks {
		if err := recordings.CheckRecord(k, c); err != nil {
			return err
		}
	}
	for _, c := range chunks {
		if err := r.add(recEvent{t: t, kind: screenKind + byte(k)}, c); err != nil {
			return err
		}
	}
	return nil
}

// screenCursor records a cursor message as sent to the viewer.
func (r *recorder) screenCursor(c protocol.ScreenCursor) error {
	if r == nil {
		return nil
	}
	p := protocol.AppendScreenCursor(nil, c)[1:] // without the inner type
	if err := recordings.CheckRecord(recordings.RecCursor, p); err != nil {
		return err
	}
	return r.add(recEvent{t: time.Now(), kind: screenKind + byte(recordings.RecCursor)}, p)
}

// screenInput records an input event from the technician. The caller checks
// the record_input policy (as for terminal input, see inputEvent).
func (r *recorder) screenInput(ev protocol.ScreenInput) error {
	if r == nil {
		return nil
	}
	p := protocol.AppendScreenInput(nil, ev)[1:]
	if err := recordings.CheckRecord(recordings.RecInput, p); err != nil {
		return err
	}
	return r.add(recEvent{t: time.Now(), kind: screenKind + byte(recordings.RecInput)}, p)
}
