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

	"github.com/tether-support/tether/internal/diskio"
	"github.com/tether-support/tether/internal/filepipe"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/safepath"
	"github.com/tether-support/tether/internal/sanitize"
)

// Download limits used when the technician sets none (--max-size,
// --max-files).
const (
	DefaultMaxSize  int64 = 10 << 30
	DefaultMaxFiles int64 = 10000
)

// getOptions says what to download, where, and within which limits.
type getOptions struct {
	src, dst                   string
	recursive, force, preserve bool
	maxSize, maxFiles          int64
}

// getState is a download in progress. Everything is written beneath a
// staging name (.tether-….part) in the destination folder, created here
// with O_EXCL and so holding nothing planted before; only a download that
// arrived complete, as announced and verified, is renamed to its final
// name. Any failure removes the staging name: nothing is written.
type getState struct {
	x     *xfer
	o     getOptions
	root  *os.Root // the destination folder
	dir   string   // its path, for messages
	final string   // the name in root the download gets (the technician's choice)
	top   string   // the name the device must give the top entry
	tmp   string   // the staging name in root, once the first entry arrived
	isDir bool     // the top entry is a folder

	entries, total int64           // announced by the device
	seen, bytes    int64           // entries started, bytes reserved by their headers
	dirs           map[string]bool // folders created, relative to the top ("." is the top)
	folds          map[string]string
	modes          []dirMode // -p: folder modes, set once everything is in
	files          []doneFile
	cur            *getFile
}

// dirMode is a folder's mode to set at the end (-p).
type dirMode struct {
	name string
	mode fs.FileMode
}

// doneFile is a verified file, reported once the download is in place.
type doneFile struct {
	rest string
	n    int64
	sum  string
}

// getFile is one file being received.
type getFile struct {
	rest, name string // relative to the top; the name in root
	f          *os.File
	wb         *diskio.Writer   // writes f; Sync writes its tail and fsyncs
	w          *filepipe.Writer // writes through wb and hashes, beside the network
	h          hash.Hash
	n, size    int64
	mode       fs.FileMode
	progress   io.Writer
}

// protoError is a download refused because the device broke the protocol
// or lied; msg is already safe to print.
type protoError struct{ msg string }

func (e *protoError) Error() string { return e.msg }

// refuse builds a protoError; args that come from the device must be
// passed through show first.
func refuse(format string, args ...any) error {
	return &protoError{msg: fmt.Sprintf(format, args...)}
}

// show makes a device-controlled string safe to print, quoted. Escape
// sequences are shown, not dropped (ESC as \x1b, C1 controls as \u00XX),
// so a name that holds one never prints as an innocent name.
func show(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == 0x1b:
			b.WriteString(`\x1b`)
		case r >= 0x80 && r <= 0x9f:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return `"` + sanitize.Display(b.String(), 80) + `"`
}

// download fetches a device file or tree into o.dst.
func (x *xfer) download(ctx context.Context, o getOptions) error {
	g, err := x.newGet(o)
	if err != nil {
		return err
	}
	defer g.root.Close()
	defer g.abort()
	id := x.nextID.Add(1)
	if err := x.sc.ch.SendJSON(ctx, protocol.InFileOpen, protocol.FileOpen{ID: id, Op: protocol.FileGet, Path: o.src, Recursive: o.recursive}); err != nil {
		return err
	}
	for {
		m, err := x.next(ctx)
		if err != nil {
			return fmt.Errorf("%w; nothing was written", err)
		}
		done, err := g.handle(id, m)
		m.release()
		var pe *protoError
		switch {
		case errors.As(err, &pe):
			return fmt.Errorf("refused what %s sent: it %s; nothing was written",
				sanitize.Display(x.sc.info.DeviceName, 63), pe.msg)
		case err != nil:
			return fmt.Errorf("%w; nothing was written", err)
		case done:
			return nil
		}
	}
}

// newGet decides where the download lands: inside dst if it is a folder
// (named as the technician's request names it), else as dst itself (its
// parent must exist). It refuses before anything is asked of the device if
// that name is taken (a file only with --force; a folder never).
func (x *xfer) newGet(o getOptions) (*getState, error) {
	g := &getState{x: x, o: o, top: safepath.TopName(o.src), dirs: map[string]bool{}, folds: map[string]string{}}
	if fi, err := os.Stat(o.dst); err == nil && fi.IsDir() {
		g.dir, g.final = o.dst, g.top
	} else {
		g.dir, g.final = filepath.Dir(o.dst), filepath.Base(o.dst)
	}
	root, err := os.OpenRoot(g.dir)
	if err != nil {
		return nil, fmt.Errorf("destination folder: %w", err)
	}
	g.root = root
	if err := g.free(false); err != nil {
		root.Close()
		return nil, err
	}
	return g, nil
}

// free checks the final name is free: with -r (or for a folder) it must
// not exist at all; a single file may replace a file or symlink with
// --force (the symlink itself is replaced, never followed).
func (g *getState) free(dir bool) error {
	fi, err := g.root.Lstat(g.final)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("destination %s: %w", g.at(""), err)
	case g.o.recursive || dir:
		return fmt.Errorf("%s already exists (tech cp -r never merges into or replaces anything)", g.at(""))
	case fi.IsDir():
		return fmt.Errorf("%s already exists and is a folder", g.at(""))
	case !g.o.force:
		return fmt.Errorf("%s already exists here (use --force to replace it)", g.at(""))
	}
	return nil
}

// at is the local path of an entry (rest relative to the top), for
// messages.
func (g *getState) at(rest string) string { return sanitize.Display(g.local(rest), 0) }

// local is the local path of an entry (rest relative to the top).
func (g *getState) local(rest string) string {
	p := filepath.Join(g.dir, g.final)
	if rest != "" && rest != "." {
		p = filepath.Join(p, filepath.FromSlash(rest))
	}
	return p
}

// handle processes one message of the download; done once it is in place.
func (g *getState) handle(id uint32, m inMsg) (bool, error) {
	switch m.t {
	case protocol.InFileHeader:
		var h protocol.FileHeader
		if err := protocol.DecodeJSON(m.p, &h); err != nil || h.ID != id {
			return false, refuse("sent a malformed file header")
		}
		return false, g.header(h)
	case protocol.InFileData:
		fid, data, err := protocol.ParseFileData(m.p)
		if err != nil || fid != id {
			return false, refuse("sent malformed file data")
		}
		return false, g.data(data)
	case protocol.InFileDone:
		var d protocol.FileDone
		if err := protocol.DecodeJSON(m.p, &d); err != nil || d.ID != id {
			return false, refuse("sent a malformed end of file")
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
		return true, g.commit()
	}
	return false, nil
}

// header checks and starts one entry.
func (g *getState) header(h protocol.FileHeader) error {
	if g.cur != nil {
		return refuse("started a new entry in the middle of %s", show(g.name(g.cur.rest)))
	}
	if g.seen == 0 {
		if err := g.announce(h); err != nil {
			return err
		}
	} else if h.Entries != 0 || h.Total != 0 {
		return refuse("announced its download a second time")
	}
	g.seen++
	if g.seen > g.entries {
		return refuse("sent more than the %d entries it announced", g.entries)
	}
	rest, err := g.entry(h)
	if err != nil {
		return err
	}
	mode, err := safepath.Mode(h.Mode)
	if err != nil {
		return refuse("sent %s with mode %#o: only permission bits (0777) are accepted, never setuid, setgid, sticky or file type bits", show(h.Path), h.Mode)
	}
	if h.Size < 0 || (h.Dir && h.Size != 0) {
		return refuse("sent %s with an invalid size %d", show(h.Path), h.Size)
	}
	if h.Dir {
		return g.mkdir(rest, mode)
	}
	if h.Size > g.total-g.bytes {
		return refuse("sent %s of %d bytes, which goes past the %d bytes it announced in all", show(h.Path), h.Size, g.total)
	}
	g.bytes += h.Size
	return g.create(rest, h.Size, mode)
}

// announce checks the first header's announcement against the request and
// the technician's limits, before any data arrives.
func (g *getState) announce(h protocol.FileHeader) error {
	switch {
	case h.Entries < 1 || h.Total < 0:
		return refuse("did not announce the size of its download")
	case !g.o.recursive && h.Entries != 1:
		return refuse("announced %d entries for one file", h.Entries)
	case !g.o.recursive && h.Dir:
		return refuse("answered a request for one file with a folder")
	case h.Entries > g.o.maxFiles:
		return fmt.Errorf("the download has %d entries, over the limit of %d (raise it with --max-files)", h.Entries, g.o.maxFiles)
	case h.Total > g.o.maxSize:
		return fmt.Errorf("the download is %s, over the limit of %s (raise it with --max-size)", byteSize(h.Total), byteSize(g.o.maxSize))
	}
	g.entries, g.total = h.Entries, h.Total
	return nil
}

// entry checks an entry's name and returns it relative to the top ("."
// for the top itself). The name must be safe (safepath.Rel), start with
// the name the request gives the top, lie in a folder sent before, and
// not collide with an earlier entry on a case-insensitive system.
func (g *getState) entry(h protocol.FileHeader) (string, error) {
	rel, err := safepath.Rel(h.Path)
	if err != nil || rel == "." {
		if err == nil {
			err = errors.New("empty name")
		}
		return "", refuse("sent an unsafe name %s (%s)", show(h.Path), sanitize.Display(err.Error(), 200))
	}
	first, rest, _ := strings.Cut(rel, "/")
	if first != g.top {
		return "", refuse("sent %s where %s was asked for", show(rel), show(g.top))
	}
	if rest == "" {
		rest = "."
	}
	switch {
	case g.seen == 1 && rest != ".":
		return "", refuse("sent %s before the folder holding it", show(rel))
	case g.seen > 1 && rest == ".":
		return "", refuse("sent %s twice", show(rel))
	case rest != "." && !g.dirs[path.Dir(rest)]:
		return "", refuse("sent %s outside any folder it sent before", show(rel))
	}
	key := safepath.FoldKey(rest)
	if prev, ok := g.folds[key]; ok {
		return "", refuse("sent %s and %s, which name the same file (on a case-insensitive system)", show(g.name(prev)), show(rel))
	}
	g.folds[key] = rest
	return rest, nil
}

// name is entry rest as the device named it, for messages.
func (g *getState) name(rest string) string { return path.Join(g.top, rest) }

// staged is the name in root where entry rest is written.
func (g *getState) staged(rest string) string {
	if rest == "." {
		g.tmp = ".tether-" + randName() + ".part"
		return g.tmp
	}
	return path.Join(g.tmp, rest)
}

// mkdir creates a folder entry: permissions from the umask, or with -p
// the device's (always with full access for the owner).
func (g *getState) mkdir(rest string, mode fs.FileMode) error {
	name := g.staged(rest)
	perm := fs.FileMode(0o777)
	if g.o.preserve {
		perm = 0o700
	}
	if err := g.root.Mkdir(name, perm); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return refuse("sent %s twice (or two names this system takes as one)", show(g.name(rest)))
		}
		return fmt.Errorf("create %s: %w", g.at(rest), err)
	}
	if rest == "." {
		g.isDir = true
	}
	g.dirs[rest] = true
	if g.o.preserve {
		g.modes = append(g.modes, dirMode{name, mode | 0o700})
	}
	return nil
}

// create starts a file entry. Without -p it is created 0666 less the
// umask (never executable); with -p it gets the device's permission bits
// once verified.
func (g *getState) create(rest string, size int64, mode fs.FileMode) error {
	name := g.staged(rest)
	perm := fs.FileMode(0o666)
	if g.o.preserve {
		perm = 0o600
	}
	f, err := g.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return refuse("sent %s twice (or two names this system takes as one)", show(g.name(rest)))
		}
		return fmt.Errorf("write %s: %w", g.at(rest), err)
	}
	wb, sum := diskio.NewWriter(f), sha256.New()
	g.cur = &getFile{rest: rest, name: name, f: f, wb: wb, w: filepipe.NewWriter(wb, sum, protocol.MaxChunk), h: sum,
		size: size, mode: mode, progress: g.x.progress(size, path.Base(path.Join(g.final, rest)))}
	return nil
}

// data appends to the current file.
func (g *getState) data(b []byte) error {
	c := g.cur
	if c == nil {
		return refuse("sent file data outside any file")
	}
	if int64(len(b)) > c.size-c.n {
		return refuse("sent more data for %s than the %d bytes it announced", show(g.name(c.rest)), c.size)
	}
	if _, err := c.w.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", g.at(c.rest), err)
	}
	c.progress.Write(b)
	c.n += int64(len(b))
	return nil
}

// done verifies the current file: size and SHA-256.
func (g *getState) done(d protocol.FileDone) error {
	c := g.cur
	if c == nil {
		return refuse("ended a file it never started")
	}
	if err := c.w.Close(); err != nil { // everything written and hashed
		return fmt.Errorf("write %s: %w", g.at(c.rest), err)
	}
	sum := hex.EncodeToString(c.h.Sum(nil))
	if c.n != c.size || d.Size != c.size || sum != d.SHA256 {
		return refuse("sent %s with a size or SHA-256 that does not match", show(g.name(c.rest)))
	}
	if err := c.wb.Sync(); err != nil { // writes the tail, then fsync
		return fmt.Errorf("write %s: %w", g.at(c.rest), err)
	}
	if err := c.f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", g.at(c.rest), err)
	}
	if g.o.preserve {
		if err := g.root.Chmod(c.name, c.mode); err != nil {
			return err
		}
	}
	g.files = append(g.files, doneFile{c.rest, c.n, sum})
	g.cur = nil
	return nil
}

// commit checks the download is complete as announced and renames it
// into place.
func (g *getState) commit() error {
	switch {
	case g.seen == 0:
		return refuse("reported success without sending anything")
	case g.cur != nil:
		return refuse("reported success in the middle of %s", show(g.name(g.cur.rest)))
	case g.seen != g.entries || g.bytes != g.total:
		return refuse("sent %d entries and %d bytes, having announced %d and %d", g.seen, g.bytes, g.entries, g.total)
	}
	for i := len(g.modes) - 1; i >= 0; i-- {
		if err := g.root.Chmod(g.modes[i].name, g.modes[i].mode); err != nil {
			return err
		}
	}
	if err := g.free(g.isDir); err != nil {
		return err
	}
	if err := g.root.Rename(g.tmp, g.final); err != nil {
		return fmt.Errorf("move into place: %w", err)
	}
	g.tmp = ""
	for _, f := range g.files {
		g.x.moved.Add(f.n)
		g.x.c.emit(FileCopied{DeviceName: g.x.sc.info.DeviceName, Local: g.local(f.rest), Size: f.n, SHA256: f.sum})
	}
	return nil
}

// abort removes everything unfinished: an interrupted or refused download
// leaves nothing at the destination.
func (g *getState) abort() {
	if c := g.cur; c != nil {
		c.w.Abort()
		c.f.Close()
		g.cur = nil
	}
	if g.tmp != "" {
		g.root.RemoveAll(g.tmp)
		g.tmp = ""
	}
}

// byteSize formats a byte count for people.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// randName returns a short random name part.
func randName() string {
	var b [6]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
