package browsertest

import (
	"fmt"
	"image"
	"time"

	"github.com/tether-support/tether/internal/screen"
)

// Diff compares a screenshot with the frame it should show, pixel for
// pixel, except within margin pixels of a colour edge of the model (where
// a canvas at a fraction of a pixel is resampled). It describes the first
// difference, or returns "".
func Diff(img image.Image, model *screen.Frame, margin int) string {
	b := img.Bounds()
	if b.Dx() < model.Width || b.Dy() < model.Height {
		return fmt.Sprintf("screenshot %dx%d smaller than the model's %dx%d", b.Dx(), b.Dy(), model.Width, model.Height)
	}
	for y := 0; y < model.Height; y++ {
		for x := 0; x < model.Width; x++ {
			if nearEdge(model, x, y, margin) {
				continue
			}
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			p := model.Pix[y*model.Stride+x*4:]
			if byte(r>>8) != p[2] || byte(g>>8) != p[1] || byte(bl>>8) != p[0] {
				return fmt.Sprintf("pixel %d,%d is %02x%02x%02x, want %02x%02x%02x", x, y, r>>8, g>>8, bl>>8, p[2], p[1], p[0])
			}
		}
	}
	return ""
}

// nearEdge reports whether a pixel within margin of (x, y) has another
// colour than (x, y).
func nearEdge(f *screen.Frame, x, y, margin int) bool {
	c := f.Pix[y*f.Stride+x*4 : y*f.Stride+x*4+3]
	for yy := max(0, y-margin); yy <= min(f.Height-1, y+margin); yy++ {
		for xx := max(0, x-margin); xx <= min(f.Width-1, x+margin); xx++ {
			o := f.Pix[yy*f.Stride+xx*4:]
			if o[0] != c[0] || o[1] != c[1] || o[2] != c[2] {
				return true
			}
		}
	}
	return false
}

// WaitShows takes screenshots of r until it shows model (Diff with a
// margin of 2 pixels), failing the test after timeout.
func (b *Browser) WaitShows(r screen.Rect, model *screen.Frame, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		diff := Diff(b.Screenshot(r), model, 2)
		if diff == "" {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the page does not show what it should: %s", diff)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Rect returns the position of the element with the given id on the
// page, in whole CSS pixels.
func (b *Browser) Rect(id string) screen.Rect {
	b.t.Helper()
	var r struct{ X, Y, W, H float64 }
	err := b.Eval(fmt.Sprintf(`(() => { const r = document.getElementById(%q).getBoundingClientRect();
		return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`, id), &r)
	if err != nil {
		b.t.Fatal(err)
	}
	return screen.Rect{X: int(r.X + 0.5), Y: int(r.Y + 0.5), W: int(r.W + 0.5), H: int(r.H + 0.5)}
}

// WaitText waits until the element with the given id contains text.
func (b *Browser) WaitText(id, text string, timeout time.Duration) {
	b.t.Helper()
	b.WaitTrue(fmt.Sprintf(`document.getElementById(%q) && document.getElementById(%q).textContent.includes(%q)`, id, id, text), timeout)
}
