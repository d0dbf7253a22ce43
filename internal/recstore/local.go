package recstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tether-support/tether/internal/ids"
)

// Local keeps recordings as files DIR/<session>.rec (0600, in a 0700
// directory). Writes go straight to the file, so a crash leaves what was
// written.
type Local struct {
	dir string
}

// NewLocal returns the store in dir, created on the first recording.
func NewLocal(dir string) *Local { return &Local{dir: dir} }

// String names the directory.
func (l *Local) String() string { return "directory " + l.dir }

func (l *Local) path(id ids.SessionID) string { return filepath.Join(l.dir, string(id)+fileSuffix) }

// Create opens a new file, never overwriting one.
func (l *Local) Create(_ context.Context, id ids.SessionID) (Writer, error) {
	if err := checkID(id); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(l.dir, 0o700); err != nil {
		return nil, fmt.Errorf("create recordings dir: %w", err)
	}
	f, err := os.OpenFile(l.path(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("create recording file: %w", ErrExists)
	}
	if err != nil {
		return nil, fmt.Errorf("create recording file: %w", err)
	}
	return &localWriter{f: f}, nil
}

// localWriter fsyncs at Close.
type localWriter struct{ f *os.File }

func (w *localWriter) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *localWriter) Close() error {
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync recording: %w", err)
	}
	return nil
}

// Open opens the file.
func (l *Local) Open(_ context.Context, id ids.SessionID) (Object, error) {
	if err := checkID(id); err != nil {
		return nil, ErrNotFound
	}
	f, err := os.Open(l.path(id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open recording: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open recording: %w", err)
	}
	return &localObject{File: f, info: Info{ID: id, Size: st.Size(), ModTime: st.ModTime()}}, nil
}

type localObject struct {
	*os.File
	info Info
}

func (o *localObject) Info() Info { return o.info }

// Delete removes the file.
func (l *Local) Delete(_ context.Context, id ids.SessionID) error {
	if err := checkID(id); err != nil {
		return err
	}
	if err := os.Remove(l.path(id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete recording: %w", err)
	}
	return nil
}

// List reads the directory; a missing one holds nothing.
func (l *Local) List(context.Context) ([]Info, error) {
	ents, err := os.ReadDir(l.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list recordings: %w", err)
	}
	var out []Info
	for _, e := range ents {
		id, ok := idFromName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		st, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, Info{ID: id, Size: st.Size(), ModTime: st.ModTime()})
	}
	return out, nil
}

// Recover has nothing to do: a file holds what was written before a crash.
func (l *Local) Recover(context.Context, func(ids.SessionID) bool) (int, int, error) {
	return 0, 0, nil
}
