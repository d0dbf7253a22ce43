package screen

import (
	"errors"
	"fmt"
)

// BytesPerPixel is the size of one pixel in a Frame.
const BytesPerPixel = 4

// MaxDimension bounds a screen's width and height, in pixels. Sizes above it
// are refused wherever a peer supplies them.
const MaxDimension = 8192

// Frame is one captured screen image. Pixels are 32 bits, stored as the
// bytes B, G, R, X (X11's ZPixmap layout for depth 24 and 32 on a
// little-endian machine); the fourth byte is ignored. Row y starts at
// Pix[y*Stride]. A Frame is owned by whoever captured it until passed on.
type Frame struct {
	Width, Height int
	Stride        int
	Pix           []byte
}

// NewFrame returns a zeroed frame of the given size with Stride = 4·width.
func NewFrame(width, height int) (*Frame, error) {
	if err := CheckSize(width, height); err != nil {
		return nil, err
	}
	return &Frame{Width: width, Height: height, Stride: width * BytesPerPixel,
		Pix: make([]byte, width*height*BytesPerPixel)}, nil
}

// CheckSize reports whether width×height is a screen size this package
// accepts: both at least 1 and at most MaxDimension.
func CheckSize(width, height int) error {
	if width < 1 || height < 1 || width > MaxDimension || height > MaxDimension {
		return fmt.Errorf("screen: size %dx%d outside 1..%d", width, height, MaxDimension)
	}
	return nil
}

// Validate checks that the frame's fields describe its buffer.
func (f *Frame) Validate() error {
	if f == nil {
		return errors.New("screen: nil frame")
	}
	if err := CheckSize(f.Width, f.Height); err != nil {
		return err
	}
	if f.Stride < f.Width*BytesPerPixel {
		return fmt.Errorf("screen: stride %d below row size %d", f.Stride, f.Width*BytesPerPixel)
	}
	if need := (f.Height-1)*f.Stride + f.Width*BytesPerPixel; len(f.Pix) < need {
		return fmt.Errorf("screen: %d pixel bytes, need %d", len(f.Pix), need)
	}
	return nil
}

// Bounds returns the frame's rectangle, at the origin.
func (f *Frame) Bounds() Rect { return Rect{W: f.Width, H: f.Height} }

// Rect is a rectangle in screen pixels: X, Y of its top-left corner, W×H.
type Rect struct {
	X, Y, W, H int
}

// Empty reports whether r covers no pixel.
func (r Rect) Empty() bool { return r.W <= 0 || r.H <= 0 }

// Within reports whether r lies entirely inside a w×h screen.
func (r Rect) Within(w, h int) bool {
	return r.X >= 0 && r.Y >= 0 && r.W >= 0 && r.H >= 0 && r.X+r.W <= w && r.Y+r.H <= h
}
