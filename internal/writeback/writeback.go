// Package writeback writes a received file so that its final fsync is
// short. A file arriving over the network at a few hundred MB/s stays in
// the page cache until fsync on a machine with plenty of memory (the
// kernel starts write-back only at dirty_background_ratio), so the whole
// file would be written to disk only after the last byte arrived, and the
// transfer would take network time plus disk time. A Writer asks the kernel
// to start writing each window of the file as soon as it is complete, and
// waits for the window before the previous one, so the disk works while the
// network does and at most a few windows are dirty at once.
package writeback

import "os"

// Window is how much of a file is handed to the disk at a time.
const Window = 8 << 20

// A Writer writes sequentially to a file, starting write-back as it goes.
// Sync (or the file's own Sync) must still be called to make it durable.
type Writer struct {
	f       *os.File
	off     int64 // bytes written
	started int64 // write-back started up to here
	waited  int64 // written to disk up to here
}

// New returns a Writer appending to f from its start.
func New(f *os.File) *Writer { return &Writer{f: f} }

// Write writes p and starts write-back of every completed window.
func (w *Writer) Write(p []byte) (int, error) {
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

// Sync makes everything written durable.
func (w *Writer) Sync() error { return w.f.Sync() }
