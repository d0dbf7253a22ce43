package diskio

import "os"

// Window is how much of a file is handed to the disk at a time in buffered
// mode.
const Window = 8 << 20

// Block is the size of one direct write or read.
const Block = 1 << 20

// directAlign is the memory and file alignment direct I/O needs, and the
// page size cachestat counts in.
const directAlign = 4096

// A Writer writes sequentially to a file from its start. Sync must be
// called to write the tail and make the file durable.
type Writer struct {
	f       *os.File
	off     int64 // bytes handed to f
	started int64 // buffered mode: write-back started up to here
	waited  int64 // buffered mode: written to disk up to here

	direct bool   // f has O_DIRECT; buf gathers the next block
	buf    []byte // aligned, cap Block
}

// NewWriter returns a Writer for f, which must be empty and at offset 0.
func NewWriter(f *os.File) *Writer {
	w := &Writer{f: f}
	if buf := alignedBlock(); buf != nil && setDirect(f, true) {
		w.direct, w.buf = true, buf
	}
	return w
}

// Write writes p (in direct mode, whole blocks; the rest waits in the
// buffer for more or for Sync).
func (w *Writer) Write(p []byte) (int, error) {
	if !w.direct {
		return w.writeBuffered(p)
	}
	total := len(p)
	for len(p) > 0 {
		n := copy(w.buf[len(w.buf):Block], p)
		w.buf = w.buf[:len(w.buf)+n]
		p = p[n:]
		if len(w.buf) == Block {
			if err := w.writeBlock(); err != nil {
				return total - len(p) - len(w.buf), err
			}
		}
	}
	return total, nil
}

// writeBlock writes the full buffer directly; if the file system refuses
// direct I/O after all, it falls back to buffered writes.
func (w *Writer) writeBlock() error {
	n, err := w.f.Write(w.buf)
	w.off += int64(n)
	if err != nil && n == 0 && setDirect(w.f, false) {
		w.direct = false
		_, err = w.writeBuffered(w.buf)
	}
	w.buf = w.buf[:0]
	return err
}

func (w *Writer) writeBuffered(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if err == nil && w.off-w.started >= Window {
		w.flushWindows()
	}
	return n, err
}

// flushWindows starts write-back of what is complete and waits for the
// disk to have caught up to one window behind it. Errors are ignored: they
// surface again at Sync.
func (w *Writer) flushWindows() {
	end := w.off - w.off%Window
	startWriteback(w.f, w.started, end-w.started)
	if lag := w.started - Window; lag > w.waited {
		waitWriteback(w.f, w.waited, lag-w.waited)
		w.waited = lag
	}
	w.started = end
}

// Sync writes what is still buffered and makes everything written durable.
func (w *Writer) Sync() error {
	if w.direct {
		w.direct = false
		setDirect(w.f, false) // the tail is not a whole block
		if len(w.buf) > 0 {
			n, err := w.f.Write(w.buf)
			w.off += int64(n)
			w.buf = w.buf[:0]
			if err != nil {
				return err
			}
		}
	}
	return w.f.Sync()
}
