package x11

import (
	"errors"
	"fmt"

	"github.com/jezek/xgb/shm"
	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/screen"
)

// frameFor returns dst when it has size w×h, else a new frame.
func frameFor(dst *screen.Frame, w, h int) (*screen.Frame, error) {
	if dst != nil && dst.Width == w && dst.Height == h && dst.Validate() == nil {
		return dst, nil
	}
	return screen.NewFrame(w, h)
}

// captureShm reads the root window through the shared segment, growing it
// when the screen grew.
func (s *source) captureShm(f *screen.Frame) error {
	need := f.Width * f.Height * screen.BytesPerPixel
	if s.seg == nil || len(s.seg.data) < need {
		s.seg.free(s.d)
		s.seg = nil
		seg, err := s.d.newShmSeg(need)
		if err != nil {
			return err
		}
		s.seg = seg
	}
	r, err := shm.GetImage(s.d.conn, xproto.Drawable(s.d.screen.Root), 0, 0,
		uint16(f.Width), uint16(f.Height), 0xffffffff, xproto.ImageFormatZPixmap, s.seg.id, 0).Reply()
	if err != nil {
		return fmt.Errorf("x11: shm get image: %w", err)
	}
	if int(r.Size) < need {
		return fmt.Errorf("x11: shm get image returned %d bytes, want %d", r.Size, need)
	}
	copyRows(f, s.seg.data[:need], f.Width*screen.BytesPerPixel, 0, f.Height)
	return nil
}

// captureCore reads the root window with core GetImage requests, in bands
// of rows that each fit the server's maximum request length (the limit
// servers apply to GetImage replies too), all sent before the first reply
// is read.
func (s *source) captureCore(f *screen.Frame) error {
	rowBytes := f.Width * screen.BytesPerPixel
	rows := bandRows(int(s.d.setup.MaximumRequestLength)*4, rowBytes)
	var cookies []xproto.GetImageCookie
	for y := 0; y < f.Height; y += rows {
		h := min(rows, f.Height-y)
		cookies = append(cookies, xproto.GetImage(s.d.conn, xproto.ImageFormatZPixmap,
			xproto.Drawable(s.d.screen.Root), 0, int16(y), uint16(f.Width), uint16(h), 0xffffffff))
	}
	var firstErr error
	for i, c := range cookies {
		r, err := c.Reply() // read every reply even after an error
		if firstErr != nil {
			continue
		}
		y := i * rows
		h := min(rows, f.Height-y)
		switch {
		case err != nil:
			firstErr = fmt.Errorf("x11: get image: %w", err)
		case len(r.Data) < h*rowBytes:
			firstErr = fmt.Errorf("x11: get image returned %d bytes, want %d", len(r.Data), h*rowBytes)
		default:
			copyRows(f, r.Data, rowBytes, y, h)
		}
	}
	return firstErr
}

// bandRows is how many rows of rowBytes fit in one reply of at most limit
// bytes, leaving room for the reply header; at least 1.
func bandRows(limit, rowBytes int) int {
	const header = 32
	return max(1, (limit-header)/rowBytes)
}

// copyRows copies h tightly packed rows from src into f starting at row y.
func copyRows(f *screen.Frame, src []byte, rowBytes, y, h int) {
	if f.Stride == rowBytes {
		copy(f.Pix[y*f.Stride:], src[:h*rowBytes])
		return
	}
	for i := 0; i < h; i++ {
		copy(f.Pix[(y+i)*f.Stride:(y+i)*f.Stride+rowBytes], src[i*rowBytes:(i+1)*rowBytes])
	}
}

// errNoShm marks an MIT-SHM failure that makes the source fall back.
var errNoShm = errors.New("x11: MIT-SHM unavailable")
