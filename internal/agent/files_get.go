package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"path"

	"github.com/tether-support/tether/internal/diskio"
	"github.com/tether-support/tether/internal/filepipe"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/safepath"
	"github.com/tether-support/tether/internal/sanitize"
)

// startGet validates a download and sends it from a goroutine, so the
// session keeps reading (an end or a revoke stops the transfer at once).
func (fl *files) startGet(ctx context.Context, o protocol.FileOpen) error {
	if err := fl.allowed(protocol.CapFilesFrom); err != nil {
		return err
	}
	rel, err := devicePath(fl.home, o.Path)
	if err != nil {
		return err
	}
	fi, err := fl.root.Stat(rel)
	if err != nil {
		return fmt.Errorf("cannot read %s: %w", rel, err)
	}
	if fi.IsDir() && !o.Recursive {
		return fmt.Errorf("%s is a directory (use -r)", rel)
	}
	gctx, cancel := context.WithCancelCause(ctx)
	fl.mu.Lock()
	fl.gets[o.ID] = cancel
	fl.mu.Unlock()
	go func() {
		err := fl.sendTree(gctx, o.ID, rel, o.Path, fi)
		if gctx.Err() != nil && err == nil {
			err = fmt.Errorf("stopped: %w", context.Cause(gctx))
		}
		fl.mu.Lock()
		delete(fl.gets, o.ID)
		fl.mu.Unlock()
		cancel(nil)
		fl.answer(ctx, protocol.FileResult{ID: o.ID, OK: err == nil, Error: errText(err)})
	}()
	return nil
}

// maxGetEntries bounds the entries one download may list, so walking a
// huge tree cannot exhaust the agent's memory.
const maxGetEntries = 200_000

// getEntry is one entry of a download, listed before anything is sent.
type getEntry struct {
	rel, out string // path under the home; path sent to the technician
	fi       fs.FileInfo
}

// sendTree sends the file or directory rel requested as asked (named
// safepath.TopName(asked)): it lists the tree first, announces the count
// of entries and bytes in the first header, then sends every entry.
// Symlinks and special files are skipped.
func (fl *files) sendTree(ctx context.Context, id uint32, rel, asked string, fi fs.FileInfo) error {
	ents, total, err := fl.list(ctx, rel, safepath.TopName(asked), fi)
	if err != nil {
		return err
	}
	for i, e := range ents {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped: %w", context.Cause(ctx))
		}
		var n, sum int64
		if i == 0 {
			n, sum = int64(len(ents)), total
		}
		if err := fl.sendEntry(ctx, id, e, n, sum); err != nil {
			return err
		}
	}
	return nil
}

// list walks the tree below rel (directories before what they hold) and
// returns its entries and their total size in bytes. A name the
// technician would refuse (safepath.Rel) stops the download here with a
// clear error instead of a protocol error there.
func (fl *files) list(ctx context.Context, rel, top string, fi fs.FileInfo) ([]getEntry, int64, error) {
	var ents []getEntry
	var total int64
	var walk func(rel, out string, fi fs.FileInfo) error
	walk = func(rel, out string, fi fs.FileInfo) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped: %w", context.Cause(ctx))
		}
		if !fi.IsDir() && !fi.Mode().IsRegular() {
			return nil
		}
		if _, err := safepath.Rel(out); err != nil {
			return fmt.Errorf("cannot send %s: %w", sanitize.Display(rel, 120), err)
		}
		if len(ents) >= maxGetEntries {
			return fmt.Errorf("%s holds more than %d entries", sanitize.Display(rel, 120), maxGetEntries)
		}
		ents = append(ents, getEntry{rel, out, fi})
		if !fi.IsDir() {
			total += fi.Size()
			return nil
		}
		return fl.walkDir(rel, out, walk)
	}
	if err := walk(rel, top, fi); err != nil {
		return nil, 0, err
	}
	return ents, total, nil
}

// walkDir calls walk for every entry of directory rel.
func (fl *files) walkDir(rel, out string, walk func(rel, out string, fi fs.FileInfo) error) error {
	d, err := fl.root.Open(rel)
	if err != nil {
		return err
	}
	des, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, de := range des {
		child := path.Join(rel, de.Name())
		cfi, err := fl.root.Lstat(child)
		if err != nil {
			return err
		}
		if err := walk(child, path.Join(out, de.Name()), cfi); err != nil {
			return err
		}
	}
	return nil
}

// sendEntry sends one listed entry; entries and total are the
// announcement, set on the first entry only.
func (fl *files) sendEntry(ctx context.Context, id uint32, e getEntry, entries, total int64) error {
	h := protocol.FileHeader{ID: id, Path: e.out, Mode: uint32(e.fi.Mode().Perm()), Entries: entries, Total: total}
	if e.fi.IsDir() {
		h.Dir = true
		return fl.s.ch.SendJSON(sendCtx(ctx), protocol.InFileHeader, h)
	}
	h.Size = e.fi.Size()
	return fl.sendFile(ctx, id, e.rel, h)
}

// sendFile streams one file in chunks with its SHA-256: exactly the size
// its header announces, or an error if the file changed meanwhile.
func (fl *files) sendFile(ctx context.Context, id uint32, rel string, h protocol.FileHeader) error {
	f, err := fl.root.Open(rel)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := fl.s.ch.SendJSON(sendCtx(ctx), protocol.InFileHeader, h); err != nil {
		return err
	}
	fl.s.ui.Notice(fmt.Sprintf("⇡ Sending %s (%s) to the technician", sanitize.Display(rel, 120), humanSize(h.Size)))
	sum := sha256.New()
	msg := make([]byte, 0, protocol.MaxInner)
	var n int64
	err = filepipe.Read(io.LimitReader(diskio.NewReader(f), h.Size), sum, protocol.MaxChunk-4, func(b []byte) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped: %w", context.Cause(ctx))
		}
		n += int64(len(b))
		msg = protocol.AppendFileData(msg[:0], id, b)
		return fl.s.ch.SendMsg(sendCtx(ctx), msg)
	})
	if err != nil {
		return err
	}
	if n != h.Size {
		return fmt.Errorf("%s changed while being sent", sanitize.Display(rel, 120))
	}
	hexSum := hex.EncodeToString(sum.Sum(nil))
	fl.s.fileMoved("download", rel, n, hexSum)
	return fl.s.ch.SendJSON(sendCtx(ctx), protocol.InFileDone, protocol.FileDone{ID: id, Size: n, SHA256: hexSum})
}

// sendCtx is the context for one send of a download: a stop (a revocation)
// is checked between sends and must not cut a message in half, which would
// close the whole connection; the session's end closes it anyway.
func sendCtx(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
