// Package recstore keeps the relay's encrypted session recordings: one
// object per session, written as the agent's recording frames arrive and
// read back, streaming, for review. The relay only ever holds ciphertext;
// nothing here can read a recording.
//
// Two implementations: [Local], a directory (DATA/recordings, the default),
// and [S3], a bucket of an S3-compatible object store (multipart upload for
// large recordings). Both pass the same conformance suite (recstoretest).
package recstore

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/ids"
)

// ErrNotFound is returned for a recording the store does not hold.
var ErrNotFound = errors.New("recording not found")

// ErrExists is returned by Create for a recording the store already holds.
var ErrExists = errors.New("recording already exists")

// Store is where recording files live.
type Store interface {
	// Create starts a new recording; it never replaces one.
	Create(ctx context.Context, id ids.SessionID) (Writer, error)
	// Open returns the recording for reading, or ErrNotFound.
	Open(ctx context.Context, id ids.SessionID) (Object, error)
	// Delete removes the recording; a missing one is not an error.
	Delete(ctx context.Context, id ids.SessionID) error
	// List returns every recording the store holds.
	List(ctx context.Context) ([]Info, error)
	// Recover deals with the uploads a crash left unfinished: what was
	// stored of a recording for which open reports true is kept (readable
	// as incomplete), everything else unfinished is discarded. It returns
	// how many it kept and discarded.
	Recover(ctx context.Context, open func(ids.SessionID) bool) (kept, discarded int, err error)
	// String names the store for logs (never a secret).
	String() string
}

// Writer appends to one recording. Close stores what was written and
// releases the writer; a recording is readable only after Close.
type Writer interface {
	io.Writer
	io.Closer
}

// Object is one stored recording, open for (seekable, streaming) reading.
type Object interface {
	io.ReadSeekCloser
	// Info is the recording's size and last change.
	Info() Info
}

// Info describes one stored recording.
type Info struct {
	ID      ids.SessionID
	Size    int64
	ModTime time.Time
}

// fileSuffix ends every recording's file or object name.
const fileSuffix = ".rec"

// idFromName returns the session ID a file or object name holds.
func idFromName(name string) (ids.SessionID, bool) {
	base, ok := strings.CutSuffix(name, fileSuffix)
	if !ok {
		return "", false
	}
	id, err := ids.ParseSessionID(base)
	return id, err == nil
}

// checkID refuses an ID that is not a session ID, so that no caller can
// name a path or key outside the store.
func checkID(id ids.SessionID) error {
	if _, err := ids.ParseSessionID(string(id)); err != nil {
		return err
	}
	return nil
}

// Open returns the store spec names: "" for the local directory dir, or an
// s3:// URL (see ParseS3URL).
func Open(ctx context.Context, spec, dir string, opt S3Options) (Store, error) {
	if spec == "" {
		return NewLocal(dir), nil
	}
	cfg, err := ParseS3URL(spec)
	if err != nil {
		return nil, err
	}
	cfg.S3Options = opt
	return NewS3(ctx, cfg)
}
