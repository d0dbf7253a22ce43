package agent

import (
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
)

// cursorMessage turns the pointer c into an InScreenCursor payload: its
// position (clamped to what the message can carry), and its shape when the
// serial differs from *last or force is set, cropped to
// protocol.MaxCursorSide around the hot spot. *last becomes the serial
// sent.
func cursorMessage(c screen.Cursor, last **uint32, force bool) protocol.ScreenCursor {
	m := protocol.ScreenCursor{X: clampU16(c.X), Y: clampU16(c.Y), Flags: protocol.CursorVisible}
	if c.Width < 1 || c.Height < 1 || len(c.Pix) < c.Width*c.Height*4 {
		return m // no shape to send
	}
	if !force && *last != nil && **last == c.Serial {
		return m
	}
	serial := c.Serial
	*last = &serial
	x0, w := cropAxis(c.HotX, c.Width)
	y0, h := cropAxis(c.HotY, c.Height)
	pix := make([]byte, 0, w*h*4)
	for y := y0; y < y0+h; y++ {
		row := (y*c.Width + x0) * 4
		pix = append(pix, c.Pix[row:row+w*4]...)
	}
	m.Flags |= protocol.CursorShape
	m.Serial, m.Width, m.Height, m.Pix = c.Serial, w, h, pix
	m.HotX = min(max(c.HotX-x0, 0), w-1)
	m.HotY = min(max(c.HotY-y0, 0), h-1)
	return m
}

// cropAxis picks the part of an image side of length n that a cursor
// message can carry (at most protocol.MaxCursorSide), keeping the hot spot
// hot inside it: the first part when it fits, else a window around hot.
func cropAxis(hot, n int) (start, length int) {
	if n <= protocol.MaxCursorSide {
		return 0, n
	}
	start = min(max(hot-protocol.MaxCursorSide/2, 0), n-protocol.MaxCursorSide)
	return start, protocol.MaxCursorSide
}

// clampU16 brings v within 0..65535.
func clampU16(v int) int { return min(max(v, 0), 0xffff) }
