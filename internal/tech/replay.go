package tech

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"os"
	"time"

	"github.com/tether-support/tether/internal/replay"
	"github.com/tether-support/tether/recordings"
)

// LoadRecording downloads recording id, decrypts it with the identity in
// identityFile and loads it for playback (replay.Load). A recording cut
// short loads up to its cut, with Cut set.
func (c *Client) LoadRecording(ctx context.Context, id, identityFile string) (*replay.Recording, error) {
	r, _, body, err := c.openRecording(ctx, id, identityFile)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	rec, err := replay.Load(r, 0)
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", id, err)
	}
	return rec, nil
}

// ExportFrame writes the framebuffer of desktop recording id at time at
// (its end when atEnd) to out as PNG (mode 0600, never overwritten).
func (c *Client) ExportFrame(ctx context.Context, id, identityFile, out string, at time.Duration, atEnd bool) (Exported, error) {
	if !atEnd && at < 0 {
		return Exported{}, errors.New("--at must not be negative")
	}
	rec, err := c.LoadRecording(ctx, id, identityFile)
	if err != nil {
		return Exported{}, err
	}
	if !rec.Desktop && rec.Cut != nil {
		return Exported{}, fmt.Errorf("recording %s is incomplete and ends before any screen update (or it is a terminal recording)", id)
	}
	if !rec.Desktop {
		return Exported{}, fmt.Errorf("recording %s is a terminal recording: export it with --format asciicast", id)
	}
	if atEnd || at > rec.Duration {
		at = rec.Duration
	}
	f, err := rec.FrameAt(at)
	if err != nil {
		return Exported{}, fmt.Errorf("recording %s: %w", id, err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, replay.Image(f)); err != nil {
		return Exported{}, fmt.Errorf("export: %w", err)
	}
	if err := writeNew(out, buf.Bytes()); err != nil {
		return Exported{}, err
	}
	return Exported{Bytes: int64(buf.Len()), Incomplete: rec.Cut != nil, At: at, Width: f.Width, Height: f.Height}, nil
}

// writeNew writes b to a new file (mode 0600), never overwriting one.
func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("export: %w", err)
	}
	return f.Close()
}

// errDesktopRecording stops a terminal-only reader at the desktop switch.
var errDesktopRecording = errors.New("a desktop recording")

// desktopGuard passes a plaintext through, up to and including the
// asciicast's last newline, and then fails with errDesktopRecording if the
// desktop switch line follows. No asciicast line can contain that line
// (events are JSON, their newlines escaped), so the match is exact. It
// holds back a tail that could be the start of the switch line until it
// knows.
type desktopGuard struct {
	r    io.Reader
	buf  []byte // read, not yet passed on
	last byte   // the last byte passed on
	err  error  // the reader's error, or errDesktopRecording
	tmp  []byte
}

var switchLine = []byte("\n" + recordings.DesktopSwitch + "\n")

func (g *desktopGuard) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		w := append([]byte{g.last}, g.buf...)
		if g.err == nil {
			if i := bytes.Index(w, switchLine); i >= 0 {
				g.buf, g.err = g.buf[:i], errDesktopRecording // w[i] is buf[i-1], the newline
			}
		}
		hold := 0
		if g.err == nil {
			for k := min(len(switchLine)-1, len(w)); k > 0; k-- {
				if bytes.HasSuffix(w, switchLine[:k]) {
					hold = min(k, len(g.buf))
					break
				}
			}
		}
		if avail := len(g.buf) - hold; avail > 0 {
			n := copy(p, g.buf[:avail])
			g.last, g.buf = g.buf[n-1], g.buf[n:]
			return n, nil
		}
		if g.err != nil {
			return 0, g.err
		}
		if g.tmp == nil {
			g.tmp = make([]byte, 32<<10)
		}
		n, err := g.r.Read(g.tmp)
		g.buf = append(g.buf, g.tmp[:n]...)
		g.err = err
	}
}
