package broker

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sync"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/recstore"
	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/recordings"
)

// recFile receives one session's encrypted recording from its agent and
// appends it to the recordings store (DATA/recordings/<session>.rec by
// default, or an object store bucket). The relay cannot read it: it
// only counts, hashes and, once, parses the public header for key IDs.
type recFile struct {
	b        *Broker
	l        *Session
	id       ids.SessionID
	dev      string // the device the quota counts against, from the first write
	stored   int64  // dev's finished recordings' bytes in the quota window
	gen      uint64 // the usage generation stored was read at
	counted  bool   // stored has been read
	stopped  error  // why no more is written: a quota, or a header for another session
	mu       sync.Mutex
	f        recstore.Writer
	sum      hash.Hash
	size     int64
	pieces   int
	head     bytes.Buffer // the first bytes, until the header parses
	keyIDs   []string
	complete bool
	closed   bool
	err      error
}

// newRecFile indexes a new recording for l's session.
func (b *Broker) newRecFile(l *Session) *recFile {
	r := &recFile{b: b, l: l, id: l.Info.ID, sum: sha256.New()}
	b.db.PutRecording(&store.Recording{ID: l.Info.ID, TechUser: l.Info.TechUser, DeviceName: l.Info.DeviceName,
		State: store.RecordingOpen, CreatedAt: now()})
	return r
}

// write appends one piece; write errors are kept and reported at close.
// It returns an error, and from then on writes nothing, when the piece
// would exceed the session's or the device's recording quota or the
// recording's header names another session: what is stored so far stays
// a whole-chunk prefix, verifiable as incomplete.
func (r *recFile) write(p []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil || r.closed || r.stopped != nil {
		return nil
	}
	if err := r.reserve(int64(len(p))); err != nil {
		r.stopped = err
		return err
	}
	if r.f == nil {
		if r.err = r.open(); r.err != nil {
			return nil
		}
	}
	if _, err := r.f.Write(p); err != nil {
		r.err = fmt.Errorf("write recording: %w", err)
		return nil
	}
	r.sum.Write(p)
	r.b.cfg.Metrics.RecordingStored(len(p))
	r.size += int64(len(p))
	r.pieces++
	if err := r.readHeader(p); err != nil {
		r.stopped = err
		return err
	}
	return nil
}

// reserve counts n more bytes against the quotas, or says which one they
// would exceed.
func (r *recFile) reserve(n int64) error {
	cfg := &r.b.cfg
	u := r.b.usage
	if r.dev == "" {
		r.dev = deviceKey(r.l.Info.DeviceID, r.l.Info.DeviceKey)
	}
	if g := u.generation(r.dev); !r.counted || g != r.gen {
		// First write, or another session of the device finished since.
		r.stored, r.gen, r.counted = r.b.storedUsage(r.dev), g, true
	}
	if r.size+n > cfg.SessionRecordingQuota {
		return &quotaError{what: "session recording", limit: cfg.SessionRecordingQuota}
	}
	if r.stored+u.add(r.dev, n) > cfg.DeviceRecordingQuota {
		u.add(r.dev, -n)
		return &quotaError{what: "device recording (24 h)", limit: cfg.DeviceRecordingQuota}
	}
	return nil
}

// open creates the recording in the store (never overwriting one).
func (r *recFile) open() error {
	w, err := r.b.cfg.Recordings.Create(context.Background(), r.id)
	if err != nil {
		return err
	}
	r.f = w
	return nil
}

// readHeader collects the first bytes until the public header parses, and
// refuses a header that names another session.
func (r *recFile) readHeader(p []byte) error {
	if r.keyIDs != nil || r.head.Len() > recordings.MaxHeaderSize {
		return nil
	}
	r.head.Write(p)
	h, err := recordings.ReadHeader(bytes.NewReader(r.head.Bytes()))
	if err != nil {
		return nil
	}
	r.keyIDs = []string{}
	for _, k := range h.KeyIDs {
		r.keyIDs = append(r.keyIDs, hex.EncodeToString(k[:]))
	}
	r.head = bytes.Buffer{}
	if got := hex.EncodeToString(h.SessionID[:]); got != r.id.String() {
		return fmt.Errorf("the recording's header names session %s, not this one", got)
	}
	return nil
}

// markComplete records that the agent sent the final chunk.
func (r *recFile) markComplete() {
	r.mu.Lock()
	r.complete = r.stopped == nil
	r.mu.Unlock()
}

// close stores the recording (fsync, or the upload completed) and
// finalises the index entry. Idempotent.
func (r *recFile) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	if r.f != nil {
		if err := r.f.Close(); err != nil && r.err == nil {
			r.err = err
		}
	}
	state := store.RecordingIncomplete
	if r.complete && r.err == nil && r.stopped == nil {
		state = store.RecordingComplete
	}
	r.b.db.UpdateRecording(r.id, func(x *store.Recording) error {
		x.State, x.Size, x.Pieces, x.KeyIDs, x.FinishedAt = state, r.size, r.pieces, r.keyIDs, now()
		x.DeviceID = r.dev
		x.SHA256 = hex.EncodeToString(r.sum.Sum(nil))
		return nil
	})
	if r.dev != "" {
		// After the index has the bytes: for a moment they count twice,
		// never not at all.
		r.b.usage.release(r.dev, r.size)
	}
	if state != store.RecordingComplete {
		reason := "session ended before the final chunk"
		if r.stopped != nil {
			reason = "no more stored: " + r.stopped.Error()
		} else if r.err != nil {
			reason = r.err.Error()
		}
		r.b.record(audit.NewEvent("", "recording.incomplete", r.id, "failure", "", "reason", reason))
	}
}
