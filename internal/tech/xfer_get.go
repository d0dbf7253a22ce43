package tech

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"tether/internal/diskio"
	"tether/internal/filepipe"
	"tether/internal/protocol"
	"tether/internal/safepath"
	"tether/internal/sanitize"
)

// getState is a download in progress: where entries go and the current
// file being written.
type getState struct {
	x      *xfer
	root   *os.Root // the local folder entries are confined to
	dir    string   // its path, for messages
	rename string   // new name for the top entry, if any
	force  bool
	cur    *getFile
}

// getFile is one file being received, in a temporary file until verified.
type getFile struct {
	rel, tmp string
	f        *os.File
	wb       *diskio.Writer   // writes f; Sync writes its tail and fsyncs
	w        *filepipe.Writer // writes through wb and hashes, beside the network
	h        hash.Hash
	n, size  int64
	mode     fs.FileMode
	progress io.Writer
}

// download fetches a device file or tree into dst.
func (x *xfer) download(ctx context.Context, src, dst string, recursive, force bool) error {
	g, err := x.newGet(dst, force)
	if err != nil {
		return err
	}
	defer g.root.Close()
	defer g.abort()
	id := x.nextID.Add(1)
	if err := x.sc.ch.SendJSON(ctx, protocol.InFileOpen, protocol.FileOpen{ID: id, Op: protocol.FileGet, Path: src, Recursive: recursive}); err != nil {
		return err
	}
	for {
		m, err := x.next(ctx)
		if err != nil {
			return err
		}
		done, err := g.handle(id, m)
		m.release()
		if err != nil || done {
			return err
		}
	}
}

// newGet decides where entries land: into dst if it is a directory,
// else as dst itself (its parent must exist).
func (x *xfer) newGet(dst string, force bool) (*getState, error) {
	g := &getState{x: x, force: force, dir: dst}
	if fi, err := os.Stat(dst); err != nil || !fi.IsDir() {
		g.dir, g.rename = filepath.Dir(dst), filepath.Base(dst)
	}
	root, err := os.OpenRoot(g.dir)
	if err != nil {
		return nil, fmt.Errorf("destination folder: %w", err)
	}
	g.root = root
	return g, nil
}

// handle processes one message of the download; done at the final result.
func (g *getState) handle(id uint32, m inMsg) (bool, error) {
	switch m.t {
	case protocol.InFileHeader:
		var h protocol.FileHeader
		if err := protocol.DecodeJSON(m.p, &h); err != nil || h.ID != id {
			return false, errors.New("device sent a malformed file header")
		}
		return false, g.header(h)
	case protocol.InFileData:
		fid, data, err := protocol.ParseFileData(m.p)
		if err != nil || fid != id {
			return false, errors.New("device sent malformed file data")
		}
		return false, g.data(data)
	case protocol.InFileDone:
		var d protocol.FileDone
		if err := protocol.DecodeJSON(m.p, &d); err != nil || d.ID != id {
			return false, errors.New("device sent a malformed end of file")
		}
		return false, g.done(d)
	case protocol.InFileResult:
		var r protocol.FileResult
		if err := protocol.DecodeJSON(m.p, &r); err != nil || r.ID != id {
			return false, nil
		}
		if !r.OK {
			return true, fmt.Errorf("device: %s", sanitize.Display(r.Error, 300))
		}
		return true, nil
	}
	return false, nil
}

// local maps a device-supplied entry path into the destination, refusing
// anything that could leave it or mislead.
func (g *getState) local(p string) (string, error) {
	rel, err := safepath.Rel(p)
	if err != nil || rel == "." {
		return "", fmt.Errorf("device sent an unsafe name %q: %v", sanitize.Display(p, 80), err)
	}
	if g.rename != "" {
		_, rest, _ := strings.Cut(rel, "/")
		rel = path.Join(g.rename, rest)
	}
	return rel, nil
}

// header starts a directory or file entry.
func (g *getState) header(h protocol.FileHeader) error {
	rel, err := g.local(h.Path)
	if err != nil {
		return err
	}
	if h.Dir {
		if err := g.root.Mkdir(rel, fs.FileMode(h.Mode&0o777)|0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s: %w", rel, err)
		}
		return nil
	}
	if _, err := g.root.Lstat(rel); err == nil && !g.force {
		return fmt.Errorf("%s already exists here (use --force to replace it)", filepath.Join(g.dir, rel))
	}
	tmp := path.Join(path.Dir(rel), ".tether-"+randName()+".part")
	f, err := g.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	wb, sum := diskio.NewWriter(f), sha256.New()
	g.cur = &getFile{rel: rel, tmp: tmp, f: f, wb: wb, w: filepipe.NewWriter(wb, sum, protocol.MaxChunk), h: sum,
		size: h.Size, mode: fs.FileMode(h.Mode & 0o777), progress: g.x.bar(h.Size, path.Base(rel))}
	return nil
}

// data appends to the current file.
func (g *getState) data(b []byte) error {
	c := g.cur
	if c == nil || c.n+int64(len(b)) > c.size {
		return errors.New("device sent more data than it announced")
	}
	if _, err := c.w.Write(b); err != nil {
		return err
	}
	c.progress.Write(b)
	c.n += int64(len(b))
	return nil
}

// done verifies the current file and moves it into place atomically.
func (g *getState) done(d protocol.FileDone) error {
	c := g.cur
	if c == nil {
		return errors.New("device ended a file it never started")
	}
	if err := c.w.Close(); err != nil { // everything written and hashed
		return err
	}
	sum := hex.EncodeToString(c.h.Sum(nil))
	if c.n != c.size || d.Size != c.size || sum != d.SHA256 {
		return fmt.Errorf("%s: size or SHA-256 mismatch; nothing was written", c.rel)
	}
	if err := c.wb.Sync(); err != nil { // writes the tail, then fsync
		return err
	}
	c.f.Close()
	if c.mode != 0 {
		g.root.Chmod(c.tmp, c.mode)
	}
	if err := g.root.Rename(c.tmp, c.rel); err != nil {
		return err
	}
	g.cur = nil
	fmt.Fprintf(g.x.c.Stderr, "%s → %s (%d bytes, sha256 %s)\n", sanitize.Display(g.x.sc.info.DeviceName, 63),
		filepath.Join(g.dir, c.rel), c.n, sum)
	return nil
}

// abort removes an unfinished file: an interrupted download leaves nothing
// at the destination.
func (g *getState) abort() {
	if c := g.cur; c != nil {
		c.w.Abort()
		c.f.Close()
		g.root.Remove(c.tmp)
		g.cur = nil
	}
}

// randName returns a short random name part.
func randName() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
