package viewer

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
)

// Binary message types, tech → page.
const (
	msgUpdate byte = 0x01
	msgCursor byte = 0x02
)

// appendUpdate appends an update message drawing rects of f (BGRX) as RGBA
// with full alpha. The rectangles must lie inside f.
func appendUpdate(dst []byte, id uint32, f *screen.Frame, rects []screen.Rect) []byte {
	dst = append(dst, msgUpdate)
	dst = binary.BigEndian.AppendUint32(dst, id)
	dst = appendU16s(dst, f.Width, f.Height, len(rects))
	for _, r := range rects {
		dst = appendU16s(dst, r.X, r.Y, r.W, r.H)
		n := len(dst)
		dst = slices.Grow(dst, r.W*r.H*4)[:n+r.W*r.H*4]
		out := dst[n:]
		for y := 0; y < r.H; y++ {
			bgrxToRGBA(out[y*r.W*4:(y+1)*r.W*4], f.Pix[(r.Y+y)*f.Stride+r.X*4:])
		}
	}
	return dst
}

// bgrxToRGBA converts one row of pixels, len(dst)/4 of them.
func bgrxToRGBA(dst, src []byte) {
	src = src[:len(dst)]
	for i := 0; i+4 <= len(dst); i += 4 {
		v := binary.LittleEndian.Uint32(src[i:])
		binary.LittleEndian.PutUint32(dst[i:], v>>16&0xff|v&0xff00|(v&0xff)<<16|0xff000000)
	}
}

// appendCursor appends a cursor message: the position, and the shape when
// shape is set.
func appendCursor(dst []byte, c protocol.ScreenCursor, shape bool) []byte {
	flags := c.Flags &^ protocol.CursorShape
	if shape {
		flags |= protocol.CursorShape
	}
	dst = append(dst, msgCursor)
	dst = appendU16s(dst, c.X, c.Y)
	dst = append(dst, flags)
	if !shape {
		return dst
	}
	dst = appendU16s(dst, c.HotX, c.HotY, c.Width, c.Height)
	return append(dst, c.Pix...)
}

func appendU16s(dst []byte, vs ...int) []byte {
	for _, v := range vs {
		dst = binary.BigEndian.AppendUint16(dst, uint16(v))
	}
	return dst
}

// maxPageMsg bounds one message from the page; the longest legitimate one
// is a key event with a 32-byte key and code.
const maxPageMsg = 256

// Page message types (pageMsg.T).
const (
	pageAck     = "ack"
	pageKey     = "key"
	pagePointer = "ptr"
	pageWheel   = "wheel"
	pageControl = "control" // the "request control" button
	pageRefresh = "refresh"
	pageRelease = "release" // the page lost focus: release what is held
)

// pageMsg is one message from the page. T says which fields matter.
type pageMsg struct {
	T    string `json:"t"`
	ID   uint32 `json:"id,omitempty"`   // ack
	Key  string `json:"key,omitempty"`  // key: KeyboardEvent.key
	Code string `json:"code,omitempty"` // key: KeyboardEvent.code
	Down bool   `json:"down,omitempty"` // key
	X    int    `json:"x,omitempty"`    // ptr: remote pixels
	Y    int    `json:"y,omitempty"`    // ptr
	B    int    `json:"b,omitempty"`    // ptr: MouseEvent.buttons
	DX   int    `json:"dx,omitempty"`   // wheel: notches
	DY   int    `json:"dy,omitempty"`   // wheel
}

// parsePageMsg decodes and checks one message from the page: bounded size,
// one JSON object with known fields only and nothing after it, a known
// type, and fields in range for it (a pointer position is checked against
// the screen size by the caller, who knows it).
func parsePageMsg(b []byte) (pageMsg, error) {
	var m pageMsg
	if len(b) > maxPageMsg {
		return m, fmt.Errorf("message of %d bytes, at most %d", len(b), maxPageMsg)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return pageMsg{}, fmt.Errorf("malformed message: %w", err)
	}
	if dec.More() {
		return pageMsg{}, errors.New("malformed message: data after the object")
	}
	switch m.T {
	case pageAck, pageControl, pageRefresh, pageRelease:
	case pageKey:
		if len(m.Key) > maxKeyLen || len(m.Code) > maxCodeLen {
			return pageMsg{}, errors.New("key event: key or code too long")
		}
	case pagePointer:
		if m.X < 0 || m.Y < 0 || m.X >= screen.MaxDimension || m.Y >= screen.MaxDimension || m.B < 0 || m.B > 31 {
			return pageMsg{}, fmt.Errorf("pointer event out of range (%d,%d buttons %d)", m.X, m.Y, m.B)
		}
	case pageWheel:
		if abs(m.DX) > protocol.MaxWheel || abs(m.DY) > protocol.MaxWheel {
			return pageMsg{}, fmt.Errorf("wheel %d,%d beyond ±%d notches", m.DX, m.DY, protocol.MaxWheel)
		}
	default:
		return pageMsg{}, fmt.Errorf("unknown message type %.20q", m.T)
	}
	return m, nil
}

// domButtons maps MouseEvent.buttons (1 left, 2 right, 4 middle) to the
// protocol's (bit 0 left, bit 1 middle, bit 2 right); back and forward are
// dropped.
func domButtons(b int) uint8 {
	var out uint8
	if b&1 != 0 {
		out |= 1
	}
	if b&4 != 0 {
		out |= 2
	}
	if b&2 != 0 {
		out |= 4
	}
	return out
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
