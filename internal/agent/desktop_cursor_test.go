package agent

import (
	"testing"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
)

func TestCursorMessage(t *testing.T) {
	img := func(w, h int) []byte {
		b := make([]byte, w*h*4)
		for i := range b {
			b[i] = byte(i)
		}
		return b
	}
	var last *uint32
	small := screen.Cursor{X: 10, Y: 20, HotX: 3, HotY: 4, Width: 16, Height: 16, Serial: 7, Pix: img(16, 16)}
	m := cursorMessage(small, &last, false)
	if m.Flags != protocol.CursorVisible|protocol.CursorShape || m.Width != 16 || m.HotX != 3 || m.HotY != 4 || len(m.Pix) != 16*16*4 {
		t.Fatalf("first shape: %+v", m)
	}
	if m := cursorMessage(small, &last, false); m.Flags != protocol.CursorVisible || m.Pix != nil {
		t.Fatalf("same serial sent its shape again: flags %#x", m.Flags)
	}
	if m := cursorMessage(small, &last, true); m.Flags&protocol.CursorShape == 0 {
		t.Fatal("a forced shape (start, refresh) was not sent")
	}
	big := screen.Cursor{X: -5, Y: 70000, HotX: 150, HotY: 2, Width: 200, Height: 100, Serial: 8, Pix: img(200, 100)}
	m = cursorMessage(big, &last, false)
	if m.X != 0 || m.Y != 0xffff || m.Width != protocol.MaxCursorSide || m.Height != protocol.MaxCursorSide {
		t.Fatalf("big cursor: %d,%d %dx%d", m.X, m.Y, m.Width, m.Height)
	}
	if m.HotX >= m.Width || m.HotY >= m.Height || m.HotX != 150-(200-protocol.MaxCursorSide) && m.HotX != 48 {
		t.Fatalf("hot spot %d,%d in %dx%d", m.HotX, m.HotY, m.Width, m.Height)
	}
	// What is sent parses.
	if _, err := protocol.ParseScreenCursor(protocol.AppendScreenCursor(nil, m)[1:]); err != nil {
		t.Fatal(err)
	}
	if m := cursorMessage(screen.Cursor{X: 1, Y: 1, Serial: 9}, &last, true); m.Flags != protocol.CursorVisible {
		t.Fatalf("a cursor without an image sent a shape: %+v", m)
	}
}

func TestSentBefore(t *testing.T) {
	for _, c := range []struct {
		last, id uint32
		want     bool
	}{{5, 5, true}, {5, 1, true}, {5, 6, false}, {5, 0, false}, {0, 1, false}} {
		if got := sentBefore(c.last, c.id); got != c.want {
			t.Errorf("sentBefore(%d, %d) = %v", c.last, c.id, got)
		}
	}
}
