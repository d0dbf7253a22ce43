package agent

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path"
	"strings"
	"sync"

	"github.com/tether-support/tether/internal/diskio"
	"github.com/tether-support/tether/internal/filepipe"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
)

// files runs a session's file operations inside the end user's home,
// through an os.Root so nothing outside it can be read or written.
type files struct {
	s    *deviceSession
	home string
	root *os.Root

	mu   sync.Mutex
	puts map[uint32]*put
	gets map[uint32]context.CancelCauseFunc
}

// put is one upload being received.
type put struct {
	rel, tmp string
	f        *os.File
	w        *filepipe.Writer // writes through wb and hashes, beside the network
	wb       *diskio.Writer   // writes f; Sync writes its tail and fsyncs
	h        hash.Hash
	n, size  int64
	mode     fs.FileMode
	force    bool
}

// openFiles opens the session's file root.
func openFiles(s *deviceSession) (*files, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, fmt.Errorf("no home directory to confine file transfers to: %w", err)
	}
	root, err := os.OpenRoot(home)
	if err != nil {
		return nil, err
	}
	return &files{s: s, home: home, root: root, puts: map[uint32]*put{}, gets: map[uint32]context.CancelCauseFunc{}}, nil
}

// busy reports whether a transfer is in progress.
func (fl *files) busy() bool {
	if fl == nil {
		return false
	}
	fl.mu.Lock()
	defer fl.mu.Unlock()
	return len(fl.puts)+len(fl.gets) > 0
}

// open starts one operation.
func (fl *files) open(ctx context.Context, o protocol.FileOpen) error {
	var err error
	switch o.Op {
	case protocol.FilePut:
		err = fl.startPut(o)
	case protocol.FileMkdir:
		err = fl.mkdir(o)
	case protocol.FileGet:
		err = fl.startGet(ctx, o)
		if err == nil {
			return nil // the sender answers when it is done
		}
	default:
		err = fmt.Errorf("unknown file operation %q", o.Op)
	}
	return fl.answer(ctx, protocol.FileResult{ID: o.ID, OK: err == nil, Error: errText(err)})
}

// allowed checks the capability for one direction.
func (fl *files) allowed(want string) error {
	if !fl.s.hasCap(want) {
		return fmt.Errorf("the end user has not granted %s", want)
	}
	return nil
}

// startPut validates an upload and creates its temporary file.
func (fl *files) startPut(o protocol.FileOpen) error {
	if err := fl.allowed(protocol.CapFilesTo); err != nil {
		return err
	}
	rel, err := devicePath(fl.home, o.Path)
	if err != nil {
		return err
	}
	if fi, err := fl.root.Stat(rel); err == nil && fi.IsDir() {
		base, err := devicePath(fl.home, o.Base)
		if err != nil || base == "." || path.Dir(base) != "." {
			return fmt.Errorf("invalid file name %q", o.Base)
		}
		rel = path.Join(rel, base)
	} else if strings.HasSuffix(o.Path, "/") {
		return fmt.Errorf("there is no folder %s on the device", rel)
	}
	if err := fl.checkWrite(rel); err != nil {
		return err
	}
	if _, err := fl.root.Lstat(rel); err == nil && !o.Force {
		return fmt.Errorf("%s already exists on the device (use --force to replace it)", rel)
	}
	if o.Size < 0 {
		return errors.New("negative size")
	}
	tmp := path.Join(path.Dir(rel), ".tether-"+randHex(8)+".part")
	f, err := fl.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", rel, err)
	}
	fl.mu.Lock()
	h, wb := sha256.New(), diskio.NewWriter(f)
	fl.puts[o.ID] = &put{rel: rel, tmp: tmp, f: f, w: filepipe.NewWriter(wb, h, protocol.MaxChunk), wb: wb, h: h, size: o.Size, mode: fs.FileMode(o.Mode) & 0o777, force: o.Force}
	fl.mu.Unlock()
	fl.s.ui.Notice(fmt.Sprintf("⇣ Receiving %s (%s) from the technician", sanitize.Display(rel, 120), humanSize(o.Size)))
	return nil
}

// mkdir creates one directory (an existing one is fine).
func (fl *files) mkdir(o protocol.FileOpen) error {
	if err := fl.allowed(protocol.CapFilesTo); err != nil {
		return err
	}
	rel, err := devicePath(fl.home, o.Path)
	if err != nil {
		return err
	}
	if err := fl.checkWrite(rel); err != nil {
		return err
	}
	mode := fs.FileMode(o.Mode) & 0o777
	if mode == 0 {
		mode = 0o755
	}
	if err := fl.root.Mkdir(rel, mode); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("cannot create %s: %w", rel, err)
	}
	if fi, err := fl.root.Stat(rel); err != nil || !fi.IsDir() {
		return fmt.Errorf("%s exists and is not a directory", rel)
	}
	return nil
}

// data appends to an upload.
func (fl *files) data(id uint32, b []byte) error {
	fl.mu.Lock()
	p := fl.puts[id]
	fl.mu.Unlock()
	if p == nil {
		return nil // aborted; the result was already sent
	}
	if p.n+int64(len(b)) > p.size {
		fl.abort(id)
		return fl.answer(context.Background(), protocol.FileResult{ID: id, Error: "more data than announced"})
	}
	if _, err := p.w.Write(b); err != nil {
		fl.abort(id)
		return fl.answer(context.Background(), protocol.FileResult{ID: id, Error: "write failed: " + err.Error()})
	}
	p.n += int64(len(b))
	return nil
}

// done verifies an upload and moves it into place atomically.
func (fl *files) done(ctx context.Context, d protocol.FileDone) error {
	fl.mu.Lock()
	p := fl.puts[d.ID]
	delete(fl.puts, d.ID)
	fl.mu.Unlock()
	if p == nil {
		return nil
	}
	if err := p.w.Close(); err != nil {
		p.f.Close()
		fl.root.Remove(p.tmp)
		return fl.answer(ctx, protocol.FileResult{ID: d.ID, Error: "write failed: " + err.Error()})
	}
	sum := hex.EncodeToString(p.h.Sum(nil))
	err := fl.commit(p, d, sum)
	if err != nil {
		p.f.Close()
		fl.root.Remove(p.tmp)
		return fl.answer(ctx, protocol.FileResult{ID: d.ID, Error: err.Error()})
	}
	fl.s.fileMoved("upload", p.rel, p.n, sum)
	fl.s.ui.Notice(fmt.Sprintf("✓ Received %s (%s, SHA-256 %s…)", sanitize.Display(p.rel, 120), humanSize(p.n), sum[:16]))
	return fl.answer(ctx, protocol.FileResult{ID: d.ID, OK: true, Path: p.rel, Size: p.n, SHA256: sum})
}

// commit checks size and hash, syncs, sets the mode and renames.
func (fl *files) commit(p *put, d protocol.FileDone, sum string) error {
	if p.n != p.size || d.Size != p.size {
		return fmt.Errorf("size mismatch: got %d bytes, announced %d", p.n, p.size)
	}
	if sum != d.SHA256 {
		return errors.New("SHA-256 mismatch: the file was damaged in transit")
	}
	if err := p.wb.Sync(); err != nil {
		return err
	}
	if err := p.f.Close(); err != nil {
		return err
	}
	if p.mode != 0 {
		if err := fl.root.Chmod(p.tmp, p.mode); err != nil {
			return err
		}
	}
	if err := fl.checkWrite(p.rel); err != nil { // a link may have appeared meanwhile
		return err
	}
	if err := fl.allowed(protocol.CapFilesTo); err != nil { // revoked meanwhile
		return err
	}
	if _, err := fl.root.Lstat(p.rel); err == nil && !p.force {
		return fmt.Errorf("%s appeared on the device meanwhile (use --force to replace it)", p.rel)
	}
	return fl.root.Rename(p.tmp, p.rel)
}

// abort drops one upload and its temporary file.
func (fl *files) abort(id uint32) {
	fl.mu.Lock()
	p := fl.puts[id]
	delete(fl.puts, id)
	fl.mu.Unlock()
	if p != nil {
		p.w.Abort()
		p.f.Close()
		fl.root.Remove(p.tmp)
	}
}

// abortAll stops every transfer (capability revoked, session ended):
// uploads leave nothing behind; downloads stop sending.
func (fl *files) abortAll(why string) { fl.abortDirections(true, true, why) }

// abortDirections stops the uploads (puts) and/or the downloads (gets) in
// progress, telling the technician why.
func (fl *files) abortDirections(puts, gets bool, why string) {
	if fl == nil || (!puts && !gets) {
		return
	}
	fl.mu.Lock()
	var ids []uint32
	if puts {
		for id := range fl.puts {
			ids = append(ids, id)
		}
	}
	if gets {
		for _, cancel := range fl.gets {
			cancel(errors.New(why))
		}
	}
	fl.mu.Unlock()
	for _, id := range ids {
		fl.abort(id)
		fl.answer(context.Background(), protocol.FileResult{ID: id, Error: why})
	}
}

// close aborts everything and closes the root.
func (fl *files) close() {
	if fl == nil {
		return
	}
	fl.abortAll("the session ended")
	fl.root.Close()
}

// answer sends a result to the technician.
func (fl *files) answer(ctx context.Context, r protocol.FileResult) error {
	return fl.s.ch.SendJSON(ctx, protocol.InFileResult, r)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// humanSize formats a byte count for people.
func humanSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
