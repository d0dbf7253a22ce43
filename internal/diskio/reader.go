package diskio

import (
	"errors"
	"io"
	"os"
	"syscall"
)

// A Reader reads a file sequentially from its start, one Block at a time:
// from the page cache when the kernel says the block is there, otherwise
// (where the file system allows it) straight from the disk with O_DIRECT,
// which leaves the page cache alone. It reads with pread, so the file's
// offset does not matter and does not move.
type Reader struct {
	f        *os.File
	size     int64  // the file's size when the Reader was made; a hint only
	off      int64  // file offset of the next block
	buf      []byte // the current block; buf[pos:] is not yet returned
	pos      int
	direct   bool  // f has O_DIRECT at the moment
	noDirect bool  // direct reads are unavailable or failed: read buffered
	err      error // io.EOF or the read error, returned once buf is drained

	directBlocks int // blocks read directly (for tests)
}

// NewReader returns a Reader for f.
func NewReader(f *os.File) *Reader {
	r := &Reader{f: f, buf: alignedBlock()}
	if r.buf == nil {
		r.buf, r.noDirect = make([]byte, 0, Block), true
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		r.size = fi.Size()
	} else {
		r.noDirect = true
	}
	return r
}

// Read reads up to len(p) bytes.
func (r *Reader) Read(p []byte) (int, error) {
	if r.pos == len(r.buf) {
		if r.err != nil {
			return 0, r.err
		}
		r.fill()
		if r.pos == len(r.buf) {
			return 0, r.err
		}
	}
	n := copy(p, r.buf[r.pos:])
	r.pos += n
	return n, nil
}

// fill reads the next block into buf.
func (r *Reader) fill() {
	b := r.buf[:Block]
	got := 0
	if !r.noDirect && !r.cached() {
		got = r.readDirect(b)
	}
	if got < len(b) && r.err == nil {
		r.setDirect(false)
		n, err := r.f.ReadAt(b[got:], r.off+int64(got))
		got += n
		r.err = err
	}
	r.off += int64(got)
	r.buf, r.pos = b[:got], 0
}

// cached reports whether the next block is wholly in the page cache, or
// whether the kernel cannot tell (then reading buffered is the safe
// choice).
func (r *Reader) cached() bool {
	n := min(Block, r.size-r.off)
	if n <= 0 {
		return true // past the size we know: let a buffered read find out
	}
	pages, ok := cachedPages(r.f, r.off, n)
	if !ok {
		r.noDirect = true
		return true
	}
	return pages*directAlign >= n
}

// readDirect reads as much of b as it can with O_DIRECT and returns how
// much it read; a short count leaves the rest to a buffered read.
func (r *Reader) readDirect(b []byte) int {
	if !r.setDirect(true) {
		r.noDirect = true
		return 0
	}
	got := 0
	for got < len(b) {
		n, err := pread(r.f, b[got:], r.off+int64(got))
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			if got == 0 {
				r.noDirect = true // e.g. EINVAL: this file system refuses after all
			}
			return got
		}
		if n == 0 {
			r.err = io.EOF
			return got
		}
		if got == 0 {
			r.directBlocks++
		}
		got += n
		if got%directAlign != 0 {
			return got // the end of the file, most likely: finish buffered
		}
	}
	return got
}

// setDirect turns O_DIRECT on or off for the file, skipping the system
// calls when it is already so.
func (r *Reader) setDirect(on bool) bool {
	if r.direct == on {
		return true
	}
	if !setDirect(r.f, on) {
		return false
	}
	r.direct = on
	return true
}
