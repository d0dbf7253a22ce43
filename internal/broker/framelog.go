package broker

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
)

// FrameLog appends every forwarded frame to a file: a diagnostic that shows
// exactly what the relay sees of a session. A nil *FrameLog does nothing.
type FrameLog struct {
	mu sync.Mutex
	f  *os.File
}

// OpenFrameLog opens (creating, mode 0600) the frame log at path. It does
// not follow a symbolic link, and an existing file of looser mode is set
// to 0600: the log is for the relay's operator only.
func OpenFrameLog(path string) (*FrameLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND|oNoFollow, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open frame log %q (it must be a regular file, not a symbolic link): %w", path, err)
	}
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("frame log %q is not a regular file", path)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, fmt.Errorf("frame log %q: %w", path, err)
	}
	return &FrameLog{f: f}, nil
}

// write appends one length-prefixed frame.
func (l *FrameLog) write(frame []byte) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(frame)))
	l.f.Write(n[:])
	l.f.Write(frame)
}

// Close closes the file.
func (l *FrameLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
