package x11_test

import (
	"testing"

	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// BenchmarkCapture1080p compares a full 1920×1080 capture through MIT-SHM
// with core GetImage (in bands) on Xvfb.
func BenchmarkCapture1080p(b *testing.B) {
	x := x11test.StartXvfb(b, 1920, 1080)
	win := x11test.NewWindow(b, x, screen.Rect{X: 100, Y: 100, W: 800, H: 600})
	win.Pattern(4, 50)
	for _, c := range []struct {
		name string
		opts x11.SourceOptions
	}{
		{"shm", x11.SourceOptions{CursorPoll: -1}},
		{"getimage", x11.SourceOptions{ForceGetImage: true, CursorPoll: -1}},
	} {
		b.Run(c.name, func(b *testing.B) {
			d, err := x11.Open(x.Display, x.XAuthority)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			src, err := d.Source(c.opts)
			if err != nil {
				b.Fatal(err)
			}
			defer src.Close()
			f, err := src.Capture(nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(f.Pix)))
			b.ResetTimer()
			for range b.N {
				if f, err = src.Capture(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
