package x11test

import (
	"math"

	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/screen"
)

// Photo paints r (window coordinates) with photo-like content — smooth
// gradients with a little deterministic noise, thousands of colours per
// 64×64 tile — so a tile codec sends it as JPEG rather than losslessly.
// It returns once the server has drawn it.
func (w *Window) Photo(r screen.Rect, seed int) {
	w.t.Helper()
	img, err := screen.NewFrame(r.W, r.H)
	if err != nil {
		w.t.Fatal(err)
	}
	state := uint32(seed)*2654435761 + 1
	for y := 0; y < r.H; y++ {
		for x := 0; x < r.W; x++ {
			state = state*1664525 + 1013904223
			n := float64(state>>24&15) - 7.5
			fx, fy := float64(x)/float64(r.W), float64(y)/float64(r.H)
			p := img.Pix[y*img.Stride+x*4:]
			p[0] = clampByte(128 + 100*math.Sin(6*fx+float64(seed)) + n)
			p[1] = clampByte(128 + 100*math.Cos(5*fy+2*fx) + n)
			p[2] = clampByte(255*fx*fy + n)
		}
	}
	// One request per band of rows, well under the server's request limit.
	const band = 32
	for y := 0; y < r.H; y += band {
		h := min(band, r.H-y)
		data := img.Pix[y*img.Stride : (y+h)*img.Stride]
		err := xproto.PutImageChecked(w.conn, xproto.ImageFormatZPixmap, xproto.Drawable(w.win), w.gc,
			uint16(r.W), uint16(h), int16(r.X), int16(r.Y+y), 0, 24, data).Check()
		if err != nil {
			w.t.Fatalf("x11test: put image: %v", err)
		}
	}
	for y := 0; y < r.H; y++ {
		for x := 0; x < r.W; x++ {
			if r.X+x >= w.model.Width || r.Y+y >= w.model.Height {
				continue
			}
			src, dst := img.Pix[y*img.Stride+x*4:], w.model.Pix[(r.Y+y)*w.model.Stride+(r.X+x)*4:]
			dst[0], dst[1], dst[2], dst[3] = src[0], src[1], src[2], 0
		}
	}
}

func clampByte(v float64) byte { return byte(min(max(v, 0), 255)) }
