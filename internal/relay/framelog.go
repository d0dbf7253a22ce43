package relay

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync"
)

// frameLog appends every forwarded frame to a file: a diagnostic that shows
// exactly what the relay sees of a session. A nil *frameLog does nothing.
type frameLog struct {
	mu sync.Mutex
	f  *os.File
}

func openFrameLog(path string) (*frameLog, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open frame log %q: %w", path, err)
	}
	return &frameLog{f: f}, nil
}

// write appends one length-prefixed frame.
func (l *frameLog) write(frame []byte) {
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
func (l *frameLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}
