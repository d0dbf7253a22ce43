package tilecodec

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tether-support/tether/internal/screen"
)

// newFrame returns a w×h frame or fails the test.
func newFrame(t testing.TB, w, h int) *screen.Frame {
	t.Helper()
	f, err := screen.NewFrame(w, h)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func setPix(f *screen.Frame, x, y int, c uint32) {
	p := f.Pix[y*f.Stride+x*4:]
	p[0], p[1], p[2], p[3] = uint8(c), uint8(c>>8), uint8(c>>16), 0xee
}

func fillRect(f *screen.Frame, r screen.Rect, c uint32) {
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			setPix(f, x, y, c)
		}
	}
}

// glyphs is a deterministic set of 8×16 one-bit "characters".
type glyphs [][16]uint8

func makeGlyphs(seed uint64) glyphs {
	rng := rand.New(rand.NewPCG(seed, 1))
	g := make(glyphs, 96)
	for i := range g {
		for row := 2; row < 14; row++ {
			g[i][row] = uint8(rng.Uint32()) & 0x7e
		}
	}
	g[0] = [16]uint8{} // space
	return g
}

// text is a synthetic terminal: a grid of 8×16 cells drawn in fg on bg.
type text struct {
	g      glyphs
	cols   int
	rows   int
	cells  []uint8
	fg, bg uint32
	x0, y0 int
}

func newText(seed uint64, cols, rows int) *text {
	rng := rand.New(rand.NewPCG(seed, 2))
	t := &text{g: makeGlyphs(seed), cols: cols, rows: rows, cells: make([]uint8, cols*rows),
		fg: 0xd0d0d0, bg: 0x101820}
	for i := range t.cells {
		if rng.IntN(5) > 0 {
			t.cells[i] = uint8(rng.IntN(len(t.g)))
		}
	}
	return t
}

func (t *text) draw(f *screen.Frame) {
	for r := 0; r < t.rows; r++ {
		for c := 0; c < t.cols; c++ {
			gl := t.g[t.cells[r*t.cols+c]]
			for y := 0; y < 16; y++ {
				for x := 0; x < 8; x++ {
					col := t.bg
					if gl[y]&(0x80>>x) != 0 {
						col = t.fg
					}
					setPix(f, t.x0+c*8+x, t.y0+r*16+y, col)
				}
			}
		}
	}
}

// scroll moves the lines up by n and fills the new lines.
func (t *text) scroll(n int, rng *rand.Rand) {
	copy(t.cells, t.cells[n*t.cols:])
	for i := (t.rows - n) * t.cols; i < len(t.cells); i++ {
		t.cells[i] = uint8(rng.IntN(len(t.g)))
	}
}

// photo fills rect r with smooth gradients plus mild noise (many colours).
func photo(f *screen.Frame, r screen.Rect, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 3))
	for y := r.Y; y < r.Y+r.H; y++ {
		for x := r.X; x < r.X+r.W; x++ {
			cr := 128 + 100*math.Sin(float64(x)/37)
			cg := 128 + 100*math.Cos(float64(y)/23)
			cb := 128 + 90*math.Sin(float64(x+y)/51)
			n := func(v float64) uint32 { return uint32(min(255, max(0, v+float64(rng.IntN(9))-4))) }
			setPix(f, x, y, n(cb)|n(cg)<<8|n(cr)<<16)
		}
	}
}

// noise fills f with random pixels.
func noise(f *screen.Frame, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 4))
	for i := 0; i < len(f.Pix); i += 8 {
		v := rng.Uint64()
		for j := 0; j < 8 && i+j < len(f.Pix); j++ {
			f.Pix[i+j] = uint8(v >> (8 * j))
		}
	}
}

// sameBGR reports the first pixel where a and b differ (ignoring X), or ok.
func sameBGR(t testing.TB, a, b *screen.Frame) {
	t.Helper()
	if a.Width != b.Width || a.Height != b.Height {
		t.Fatalf("size %dx%d, want %dx%d", a.Width, a.Height, b.Width, b.Height)
	}
	for y := 0; y < a.Height; y++ {
		for x := 0; x < a.Width; x++ {
			p, q := a.Pix[y*a.Stride+4*x:], b.Pix[y*b.Stride+4*x:]
			if p[0] != q[0] || p[1] != q[1] || p[2] != q[2] {
				t.Fatalf("pixel %d,%d = %v, want %v", x, y, p[:3], q[:3])
			}
		}
	}
}

// psnr is the peak signal-to-noise ratio of a against b over BGR, in dB.
func psnr(a, b *screen.Frame) float64 {
	var sum float64
	for y := 0; y < a.Height; y++ {
		for x := 0; x < a.Width; x++ {
			p, q := a.Pix[y*a.Stride+4*x:], b.Pix[y*b.Stride+4*x:]
			for i := 0; i < 3; i++ {
				d := float64(p[i]) - float64(q[i])
				sum += d * d
			}
		}
	}
	mse := sum / float64(a.Width*a.Height*3)
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

// apply feeds an update to d chunk by chunk, checking that only the last
// chunk completes it.
func apply(t testing.TB, d *Decoder, u Update) []screen.Rect {
	t.Helper()
	var dirty []screen.Rect
	for i, c := range u.Chunks {
		if len(c) > MaxChunk {
			t.Fatalf("chunk %d of update %d has %d bytes", i, u.ID, len(c))
		}
		res, err := d.Apply(c)
		if err != nil {
			t.Fatalf("update %d chunk %d: %v", u.ID, i, err)
		}
		if res.ID != u.ID || res.Complete != (i == len(u.Chunks)-1) {
			t.Fatalf("update %d chunk %d: result %+v", u.ID, i, res)
		}
		dirty = append(dirty, res.Dirty...)
	}
	return dirty
}

func encode(t testing.TB, e *Encoder, f *screen.Frame, full bool) Update {
	t.Helper()
	u, err := e.Encode(f, full)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
