package agent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"

	"tether/internal/diskio"
	"tether/internal/filepipe"
	"tether/internal/protocol"
	"tether/internal/sanitize"
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
	gctx, cancel := context.WithCancel(ctx)
	fl.mu.Lock()
	fl.gets[o.ID] = cancel
	fl.mu.Unlock()
	go func() {
		err := fl.sendTree(gctx, o.ID, rel, fi)
		if gctx.Err() != nil && err == nil {
			err = errors.New("stopped")
		}
		fl.mu.Lock()
		delete(fl.gets, o.ID)
		fl.mu.Unlock()
		cancel()
		fl.answer(ctx, protocol.FileResult{ID: o.ID, OK: err == nil, Error: errText(err)})
	}()
	return nil
}

// sendTree sends rel (a file, or a directory with everything below it).
func (fl *files) sendTree(ctx context.Context, id uint32, rel string, fi fs.FileInfo) error {
	base := path.Base(rel)
	if rel == "." {
		base = "home"
	}
	return fl.sendEntry(ctx, id, rel, base, fi)
}

// sendEntry sends one entry; directories recurse. Symlinks and special
// files are skipped.
func (fl *files) sendEntry(ctx context.Context, id uint32, rel, out string, fi fs.FileInfo) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped: %w", context.Cause(ctx))
	}
	switch {
	case fi.IsDir():
		return fl.sendDir(ctx, id, rel, out, fi)
	case fi.Mode().IsRegular():
		return fl.sendFile(ctx, id, rel, out, fi)
	}
	return nil
}

func (fl *files) sendDir(ctx context.Context, id uint32, rel, out string, fi fs.FileInfo) error {
	h := protocol.FileHeader{ID: id, Path: out, Dir: true, Mode: uint32(fi.Mode().Perm())}
	if err := fl.s.ch.SendJSON(ctx, protocol.InFileHeader, h); err != nil {
		return err
	}
	d, err := fl.root.Open(rel)
	if err != nil {
		return err
	}
	ents, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return err
	}
	for _, e := range ents {
		child := path.Join(rel, e.Name())
		cfi, err := fl.root.Lstat(child)
		if err != nil {
			return err
		}
		if err := fl.sendEntry(ctx, id, child, path.Join(out, e.Name()), cfi); err != nil {
			return err
		}
	}
	return nil
}

// sendFile streams one file in chunks with its SHA-256.
func (fl *files) sendFile(ctx context.Context, id uint32, rel, out string, fi fs.FileInfo) error {
	f, err := fl.root.Open(rel)
	if err != nil {
		return err
	}
	defer f.Close()
	h := protocol.FileHeader{ID: id, Path: out, Size: fi.Size(), Mode: uint32(fi.Mode().Perm())}
	if err := fl.s.ch.SendJSON(ctx, protocol.InFileHeader, h); err != nil {
		return err
	}
	fl.s.console.notice("⇡ Sending %s (%s) to the technician", sanitize.Display(rel, 120), humanSize(fi.Size()))
	sum := sha256.New()
	msg := make([]byte, 0, protocol.MaxInner)
	var n int64
	err = filepipe.Read(diskio.NewReader(f), sum, protocol.MaxChunk-4, func(b []byte) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped: %w", context.Cause(ctx))
		}
		n += int64(len(b))
		msg = protocol.AppendFileData(msg[:0], id, b)
		return fl.s.ch.SendMsg(ctx, msg)
	})
	if err != nil {
		return err
	}
	hexSum := hex.EncodeToString(sum.Sum(nil))
	fl.s.fileMoved("download", rel, n, hexSum)
	return fl.s.ch.SendJSON(ctx, protocol.InFileDone, protocol.FileDone{ID: id, Size: n, SHA256: hexSum})
}
