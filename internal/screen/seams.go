package screen

import "context"

// Cursor is the pointer's shape and position. Pix holds Width×Height pixels
// as straight (not premultiplied) R, G, B, A bytes; HotX, HotY is the hot
// spot within the image. Serial changes whenever the shape changes, so a
// sender can send the image only when it differs.
type Cursor struct {
	X, Y          int
	HotX, HotY    int
	Width, Height int
	Serial        uint32
	Pix           []byte
}

// Change says what a Source noticed since the last Change it delivered.
type Change struct {
	// Damage lists the regions whose pixels changed (XDamage); empty with
	// Resized or when the source cannot tell.
	Damage []Rect
	// Resized is set when the screen size changed (RandR); the next Capture
	// returns a frame of the new size.
	Resized bool
	// Cursor is set when the pointer moved or changed shape (XFixes).
	Cursor bool
}

// Source captures one screen. Implementations: the X11 capturer in
// internal/x11. A Source is used by one goroutine at a time, except Changes,
// which may be received from another.
type Source interface {
	// Size returns the current screen size in pixels.
	Size() (width, height int)
	// Capture reads the whole screen into dst when dst has the current size
	// (reusing its buffer), or into a new Frame, and returns the frame.
	Capture(dst *Frame) (*Frame, error)
	// Cursor returns the pointer's current position and shape.
	Cursor() (Cursor, error)
	// Changes delivers what changed on the screen; it is closed when the
	// Source is closed or its display connection is lost.
	Changes() <-chan Change
	// Close releases the display resources (shared memory, damage objects).
	Close() error
}

// Injector sends the technician's input to the display. Every method returns
// an error when the display refuses the event or the connection is gone.
type Injector interface {
	// Key presses (down) or releases an X keysym.
	Key(ctx context.Context, keysym uint32, down bool) error
	// Pointer moves the pointer to x, y (screen pixels) and sets the state of
	// buttons 1–3 (bit 0 left, bit 1 middle, bit 2 right).
	Pointer(ctx context.Context, x, y int, buttons uint8) error
	// Wheel scrolls by dx, dy notches (positive: right, down).
	Wheel(ctx context.Context, dx, dy int) error
	// ReleaseAll releases every key and button this Injector pressed and has
	// not released. It is called at a control revocation and at every
	// session end.
	ReleaseAll(ctx context.Context) error
	// Close releases the Injector's display resources after ReleaseAll.
	Close() error
}
