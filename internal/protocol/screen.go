package protocol

import (
	"encoding/binary"
	"fmt"
)

// Screen input event kinds (the first byte of an InScreenInput payload).
const (
	// InputKey: keysym (uint32 BE) ‖ down (1 byte, 0 or 1).
	InputKey byte = 0x01
	// InputPointer: x (uint16 BE) ‖ y (uint16 BE) ‖ buttons (1 byte; bit 0
	// left, bit 1 middle, bit 2 right, other bits zero).
	InputPointer byte = 0x02
	// InputWheel: dx (int8) ‖ dy (int8), notches, each within ±MaxWheel.
	InputWheel byte = 0x03
)

// Limits on screen messages.
const (
	// MaxKeysym is the largest X keysym (29 bits).
	MaxKeysym = 0x1fffffff
	// MaxWheel bounds one wheel event's notches in either axis.
	MaxWheel = 10
	// MaxCursorSide bounds a cursor image's width and height, in pixels;
	// an agent crops larger shapes.
	MaxCursorSide = 96
	// ButtonsMask is the buttons an InputPointer event may set.
	ButtonsMask = 0x07
	// MaxScreenSide bounds a screen's width and height (screen.MaxDimension).
	MaxScreenSide = 8192
)

// ScreenInput is one input event of InScreenInput. Kind says which fields
// matter.
type ScreenInput struct {
	Kind    byte
	Keysym  uint32 // InputKey
	Down    bool   // InputKey
	X, Y    int    // InputPointer, screen pixels
	Buttons uint8  // InputPointer
	DX, DY  int    // InputWheel
}

// AppendScreenInput appends an InScreenInput message for ev. It does not
// validate ev; ParseScreenInput does, on the receiving side.
func AppendScreenInput(dst []byte, ev ScreenInput) []byte {
	dst = append(dst, byte(InScreenInput), ev.Kind)
	switch ev.Kind {
	case InputKey:
		dst = binary.BigEndian.AppendUint32(dst, ev.Keysym)
		return append(dst, b2u(ev.Down))
	case InputPointer:
		dst = binary.BigEndian.AppendUint16(dst, uint16(ev.X))
		dst = binary.BigEndian.AppendUint16(dst, uint16(ev.Y))
		return append(dst, ev.Buttons)
	case InputWheel:
		return append(dst, byte(int8(ev.DX)), byte(int8(ev.DY)))
	}
	return dst
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// ParseScreenInput decodes and checks an InScreenInput payload: its length
// is exact for its kind, a keysym fits 29 bits, down is 0 or 1, buttons only
// use bits 0–2, and wheel notches lie within ±MaxWheel. Whether a pointer
// position lies on the screen is for the receiver, who knows its size.
func ParseScreenInput(p []byte) (ScreenInput, error) {
	if len(p) == 0 {
		return ScreenInput{}, fmt.Errorf("%w: empty screen input", ErrBadInner)
	}
	ev := ScreenInput{Kind: p[0]}
	body := p[1:]
	want := map[byte]int{InputKey: 5, InputPointer: 5, InputWheel: 2}[ev.Kind]
	if want == 0 {
		return ScreenInput{}, fmt.Errorf("%w: unknown screen input kind 0x%02x", ErrBadInner, ev.Kind)
	}
	if len(body) != want {
		return ScreenInput{}, fmt.Errorf("%w: screen input kind 0x%02x is %d bytes, want %d", ErrBadInner, ev.Kind, len(body), want)
	}
	switch ev.Kind {
	case InputKey:
		ev.Keysym = binary.BigEndian.Uint32(body)
		if ev.Keysym > MaxKeysym || body[4] > 1 {
			return ScreenInput{}, fmt.Errorf("%w: bad key event (keysym 0x%x, down %d)", ErrBadInner, ev.Keysym, body[4])
		}
		ev.Down = body[4] == 1
	case InputPointer:
		ev.X = int(binary.BigEndian.Uint16(body))
		ev.Y = int(binary.BigEndian.Uint16(body[2:]))
		ev.Buttons = body[4]
		if ev.Buttons&^ButtonsMask != 0 {
			return ScreenInput{}, fmt.Errorf("%w: pointer buttons 0x%02x outside 0x07", ErrBadInner, ev.Buttons)
		}
	case InputWheel:
		ev.DX, ev.DY = int(int8(body[0])), int(int8(body[1]))
		if abs(ev.DX) > MaxWheel || abs(ev.DY) > MaxWheel {
			return ScreenInput{}, fmt.Errorf("%w: wheel %d,%d beyond ±%d", ErrBadInner, ev.DX, ev.DY, MaxWheel)
		}
	}
	return ev, nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// AppendScreenAck appends an InScreenAck message for update id.
func AppendScreenAck(dst []byte, id uint32) []byte {
	dst = append(dst, byte(InScreenAck))
	return binary.BigEndian.AppendUint32(dst, id)
}

// ParseScreenAck decodes an InScreenAck payload: exactly 4 bytes.
func ParseScreenAck(p []byte) (uint32, error) {
	if len(p) != 4 {
		return 0, fmt.Errorf("%w: screen ack is %d bytes, want 4", ErrBadInner, len(p))
	}
	return binary.BigEndian.Uint32(p), nil
}

// Cursor flags (ScreenCursor.Flags).
const (
	// CursorVisible: the pointer is shown.
	CursorVisible byte = 0x01
	// CursorShape: a shape follows the position.
	CursorShape byte = 0x02
)

// ScreenCursor is the payload of InScreenCursor: x, y (uint16 BE each) ‖
// flags (1 byte), then with CursorShape: serial (uint32 BE) ‖ hotX, hotY,
// width, height (uint16 BE each) ‖ width·height·4 bytes of straight RGBA.
type ScreenCursor struct {
	X, Y          int
	Flags         byte
	Serial        uint32
	HotX, HotY    int
	Width, Height int
	Pix           []byte
}

// AppendScreenCursor appends an InScreenCursor message for c.
func AppendScreenCursor(dst []byte, c ScreenCursor) []byte {
	dst = append(dst, byte(InScreenCursor))
	dst = binary.BigEndian.AppendUint16(dst, uint16(c.X))
	dst = binary.BigEndian.AppendUint16(dst, uint16(c.Y))
	dst = append(dst, c.Flags)
	if c.Flags&CursorShape == 0 {
		return dst
	}
	dst = binary.BigEndian.AppendUint32(dst, c.Serial)
	for _, v := range []int{c.HotX, c.HotY, c.Width, c.Height} {
		dst = binary.BigEndian.AppendUint16(dst, uint16(v))
	}
	return append(dst, c.Pix...)
}

// ParseScreenCursor decodes and checks an InScreenCursor payload: flags use
// only the two defined bits, a shape is at most MaxCursorSide on each side,
// its hot spot lies inside it, and its pixel bytes are exactly w·h·4. Pix
// aliases p.
func ParseScreenCursor(p []byte) (ScreenCursor, error) {
	if len(p) < 5 {
		return ScreenCursor{}, fmt.Errorf("%w: cursor is %d bytes", ErrBadInner, len(p))
	}
	c := ScreenCursor{X: int(binary.BigEndian.Uint16(p)), Y: int(binary.BigEndian.Uint16(p[2:])), Flags: p[4]}
	if c.Flags&^(CursorVisible|CursorShape) != 0 {
		return ScreenCursor{}, fmt.Errorf("%w: cursor flags 0x%02x", ErrBadInner, c.Flags)
	}
	if c.Flags&CursorShape == 0 {
		if len(p) != 5 {
			return ScreenCursor{}, fmt.Errorf("%w: cursor position is %d bytes, want 5", ErrBadInner, len(p))
		}
		return c, nil
	}
	if len(p) < 17 {
		return ScreenCursor{}, fmt.Errorf("%w: cursor shape header is %d bytes", ErrBadInner, len(p))
	}
	c.Serial = binary.BigEndian.Uint32(p[5:])
	c.HotX, c.HotY = int(binary.BigEndian.Uint16(p[9:])), int(binary.BigEndian.Uint16(p[11:]))
	c.Width, c.Height = int(binary.BigEndian.Uint16(p[13:])), int(binary.BigEndian.Uint16(p[15:]))
	if c.Width < 1 || c.Height < 1 || c.Width > MaxCursorSide || c.Height > MaxCursorSide {
		return ScreenCursor{}, fmt.Errorf("%w: cursor %dx%d outside 1..%d", ErrBadInner, c.Width, c.Height, MaxCursorSide)
	}
	if c.HotX >= c.Width || c.HotY >= c.Height {
		return ScreenCursor{}, fmt.Errorf("%w: cursor hot spot %d,%d outside %dx%d", ErrBadInner, c.HotX, c.HotY, c.Width, c.Height)
	}
	if n := c.Width * c.Height * 4; len(p)-17 != n {
		return ScreenCursor{}, fmt.Errorf("%w: cursor image is %d bytes, want %d", ErrBadInner, len(p)-17, n)
	}
	c.Pix = p[17:]
	return c, nil
}

// ScreenState is the payload of InScreenState, sent by the agent when the
// stream starts and whenever any field changes.
type ScreenState struct {
	// Width and Height are the screen's size, 1..8192, or both 0 when A
	// shows no screen (screen-view not granted, the stream stopped, or
	// Unavailable).
	Width  int `json:"width"`
	Height int `json:"height"`
	// Paused: the end user paused capture; Why says so in their words.
	Paused bool   `json:"paused,omitempty"`
	Why    string `json:"why,omitempty"`
	// Control: screen-control is granted now, so input is acted on.
	Control bool `json:"control,omitempty"`
	// MaxFPS is the frame-rate cap in force.
	MaxFPS int `json:"max_fps,omitempty"`
	// Unavailable: A cannot show its screen at all (a Wayland session, no
	// display, the X server gone); Why says why. A start was refused.
	Unavailable bool `json:"unavailable,omitempty"`
}

// Check reports whether st's size is valid: both 0 (no screen shown) or
// both within 1..MaxScreenSide.
func (st ScreenState) Check() error {
	if st.Width == 0 && st.Height == 0 {
		return nil
	}
	if st.Width < 1 || st.Height < 1 || st.Width > MaxScreenSide || st.Height > MaxScreenSide {
		return fmt.Errorf("%w: screen state size %dx%d outside 1..%d", ErrBadInner, st.Width, st.Height, MaxScreenSide)
	}
	return nil
}

// Screen stream requests (ScreenControl.Op).
const (
	ScreenStart   = "start"   // begin the stream (a full frame first)
	ScreenRefresh = "refresh" // send a full frame next
	ScreenStop    = "stop"    // stop capturing; the session goes on
)

// ScreenControl is the payload of InScreenControl.
type ScreenControl struct {
	Op string `json:"op"`
}
