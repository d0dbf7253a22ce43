package tech

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"github.com/tether-support/tether/internal/diskio"
	"github.com/tether-support/tether/internal/filepipe"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
)

// xfer runs file operations over an open session. One goroutine
// (dispatch) reads the channel and hands messages to the operation that
// waits for them.
type xfer struct {
	c      *Client
	sc     *LiveSession
	nextID atomic.Uint32
	msgs   chan inMsg
	moved  atomic.Int64 // bytes of the files verified so far
}

// inMsg is one message from the device, copied out of the channel buffer
// into a pooled buffer (release it when done).
type inMsg struct {
	t   protocol.InnerType
	p   []byte
	buf *[]byte
	err error
}

func newXfer(c *Client, sc *LiveSession) *xfer {
	return &xfer{c: c, sc: sc, msgs: make(chan inMsg, 4)}
}

// dispatch forwards received messages until the channel fails.
func (x *xfer) dispatch(ctx context.Context) {
	for {
		t, p, err := x.sc.ch.Recv(ctx)
		if err != nil {
			x.msgs <- inMsg{err: sessionError(err)}
			close(x.msgs)
			return
		}
		if t == protocol.InCapRevoked {
			x.sc.HandleCapMessage(t, p)
			continue
		}
		b := msgPool.Get().(*[]byte)
		*b = append((*b)[:0], p...)
		x.msgs <- inMsg{t: t, p: *b, buf: b}
	}
}

// msgPool recycles message copies: a download moves ~16,000 64 KiB chunks
// per GiB through the dispatcher.
var msgPool = sync.Pool{New: func() any { b := make([]byte, 0, protocol.MaxInner); return &b }}

// release returns a message's buffer once it has been handled.
func (m inMsg) release() {
	if m.buf != nil {
		msgPool.Put(m.buf)
	}
}

// next returns the next message, or the error that ended the session.
func (x *xfer) next(ctx context.Context) (inMsg, error) {
	select {
	case m, ok := <-x.msgs:
		if !ok {
			return inMsg{}, errors.New("session closed")
		}
		if m.err != nil {
			return m, m.err
		}
		return m, nil
	case <-ctx.Done():
		return inMsg{}, ctx.Err()
	}
}

// result waits for the FileResult of operation id.
func (x *xfer) result(ctx context.Context, id uint32) (*protocol.FileResult, error) {
	for {
		m, err := x.next(ctx)
		if err != nil {
			return nil, err
		}
		if m.t != protocol.InFileResult {
			m.release()
			continue
		}
		var r protocol.FileResult
		err = protocol.DecodeJSON(m.p, &r)
		m.release()
		if err != nil {
			return nil, err
		}
		if r.ID != id {
			continue
		}
		if !r.OK {
			return &r, fmt.Errorf("device: %s", sanitize.Display(r.Error, 300))
		}
		return &r, nil
	}
}

// progress reports one file's progress: Progress with Done 0 now, and
// again after every chunk written to the returned writer.
func (x *xfer) progress(size int64, name string) io.Writer {
	x.c.emit(Progress{Name: name, Size: size})
	if x.c.Observer == nil {
		return io.Discard
	}
	return &progressWriter{c: x.c, p: Progress{Name: name, Size: size}}
}

// progressWriter counts the bytes of one file and reports each step.
type progressWriter struct {
	c *Client
	p Progress
}

// Write counts b and reports the progress.
func (w *progressWriter) Write(b []byte) (int, error) {
	w.p.Done += int64(len(b))
	w.c.emit(w.p)
	return len(b), nil
}

// upload sends a local file or tree to the device.
func (x *xfer) upload(ctx context.Context, src, dst string, recursive, force bool) error {
	fi, err := localSource(src, recursive)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return x.putFile(ctx, src, dst, baseName(src), fi, force)
	}
	top := dst
	if top == "" || top[len(top)-1] == '/' {
		top = remoteJoin(dst, baseName(src))
	}
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		remote := top
		if rel != "." {
			remote = remoteJoin(top, filepath.ToSlash(rel))
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return x.mkdir(ctx, remote, info.Mode().Perm())
		case info.Mode().IsRegular():
			return x.putFile(ctx, p, remote, d.Name(), info, force)
		}
		x.c.emit(FileSkipped{Path: p})
		return nil
	})
}

// mkdir creates one directory on the device.
func (x *xfer) mkdir(ctx context.Context, remote string, mode fs.FileMode) error {
	id := x.nextID.Add(1)
	if err := x.sc.ch.SendJSON(ctx, protocol.InFileOpen, protocol.FileOpen{ID: id, Op: protocol.FileMkdir, Path: remote, Mode: uint32(mode)}); err != nil {
		return err
	}
	_, err := x.result(ctx, id)
	return err
}

// putFile sends one file and checks the device's SHA-256 against ours.
func (x *xfer) putFile(ctx context.Context, local, remote, base string, fi fs.FileInfo, force bool) error {
	f, err := os.Open(local)
	if err != nil {
		return err
	}
	defer f.Close()
	id := x.nextID.Add(1)
	open := protocol.FileOpen{ID: id, Op: protocol.FilePut, Path: remote, Base: base, Size: fi.Size(), Mode: uint32(fi.Mode().Perm()), Force: force}
	if err := x.sc.ch.SendJSON(ctx, protocol.InFileOpen, open); err != nil {
		return err
	}
	if _, err := x.result(ctx, id); err != nil {
		return fmt.Errorf("upload %s: %w", local, err)
	}
	sum, err := x.stream(ctx, id, diskio.NewReader(f), x.progress(fi.Size(), base))
	if err != nil {
		return fmt.Errorf("upload %s: %w", local, err)
	}
	if err := x.sc.ch.SendJSON(ctx, protocol.InFileDone, protocol.FileDone{ID: id, Size: fi.Size(), SHA256: sum}); err != nil {
		return err
	}
	r, err := x.result(ctx, id)
	if err != nil {
		return fmt.Errorf("upload %s: %w", local, err)
	}
	if r.SHA256 != sum {
		return fmt.Errorf("upload %s: the device stored a different SHA-256", local)
	}
	x.moved.Add(r.Size)
	x.c.emit(FileCopied{Upload: true, DeviceName: x.sc.info.DeviceName, Local: local, Remote: r.Path, Size: r.Size, SHA256: sum})
	return nil
}

// stream sends f's bytes as file data and returns their SHA-256. A result
// arriving meanwhile (the end user revoked, the device failed) stops it.
func (x *xfer) stream(ctx context.Context, id uint32, f io.Reader, progress io.Writer) (string, error) {
	h := sha256.New()
	msg := make([]byte, 0, protocol.MaxInner)
	err := filepipe.Read(f, h, protocol.MaxChunk-4, func(b []byte) error {
		if err := x.interrupted(id); err != nil {
			return err
		}
		progress.Write(b)
		msg = protocol.AppendFileData(msg[:0], id, b)
		return x.sc.ch.SendMsg(ctx, msg)
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// interrupted reports an early failure result for id, if one is waiting.
func (x *xfer) interrupted(id uint32) error {
	select {
	case m, ok := <-x.msgs:
		if !ok {
			return errors.New("session closed")
		}
		if m.err != nil {
			return m.err
		}
		var r protocol.FileResult
		ok = m.t == protocol.InFileResult && protocol.DecodeJSON(m.p, &r) == nil && r.ID == id && !r.OK
		m.release()
		if ok {
			return fmt.Errorf("device: %s", sanitize.Display(r.Error, 300))
		}
	default:
	}
	return nil
}
