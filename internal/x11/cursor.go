package x11

import (
	"fmt"

	"github.com/jezek/xgb/xfixes"

	"github.com/tether-support/tether/internal/screen"
)

// maxCursorSide bounds a cursor image's width and height.
const maxCursorSide = 256

// Cursor returns the pointer's position and shape (XFixes GetCursorImage).
func (s *source) Cursor() (screen.Cursor, error) {
	r, err := xfixes.GetCursorImage(s.d.conn).Reply()
	if err != nil {
		return screen.Cursor{}, fmt.Errorf("x11: get cursor image: %w", err)
	}
	w, h := int(r.Width), int(r.Height)
	if w > maxCursorSide || h > maxCursorSide || len(r.CursorImage) < w*h {
		return screen.Cursor{}, fmt.Errorf("x11: cursor image %dx%d with %d pixels refused", w, h, len(r.CursorImage))
	}
	return screen.Cursor{
		X: int(r.X), Y: int(r.Y), HotX: int(r.Xhot), HotY: int(r.Yhot),
		Width: w, Height: h, Serial: r.CursorSerial,
		Pix: straightRGBA(r.CursorImage[:w*h]),
	}, nil
}

// straightRGBA converts XFixes cursor pixels (32-bit ARGB, premultiplied by
// alpha) to straight R, G, B, A bytes.
func straightRGBA(argb []uint32) []byte {
	out := make([]byte, 4*len(argb))
	for i, p := range argb {
		a := p >> 24
		r, g, b := (p>>16)&0xff, (p>>8)&0xff, p&0xff
		if a != 0 && a != 255 {
			r, g, b = unpremul(r, a), unpremul(g, a), unpremul(b, a)
		}
		if a == 0 {
			r, g, b = 0, 0, 0
		}
		out[4*i], out[4*i+1], out[4*i+2], out[4*i+3] = byte(r), byte(g), byte(b), byte(a)
	}
	return out
}

// unpremul divides a premultiplied channel by alpha, rounding, capped at 255.
func unpremul(c, a uint32) uint32 {
	return min((c*255+a/2)/a, 255)
}
