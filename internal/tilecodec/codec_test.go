package tilecodec

import (
	"math/rand/v2"
	"testing"

	"github.com/tether-support/tether/internal/screen"
)

func TestRoundTripLossless(t *testing.T) {
	cases := []struct {
		name string
		w, h int
		opts Options
		draw func(f *screen.Frame, step int, rng *rand.Rand)
	}{
		{"text", 1000, 500, Options{}, func(f *screen.Frame, step int, rng *rand.Rand) {
			tx := newText(uint64(step), 1000/8, 500/16)
			tx.draw(f)
		}},
		{"solid regions", 333, 257, Options{}, func(f *screen.Frame, step int, rng *rand.Rand) {
			for i := 0; i < 5; i++ {
				fillRect(f, screen.Rect{X: rng.IntN(300), Y: rng.IntN(200), W: 1 + rng.IntN(33), H: 1 + rng.IntN(57)}, rng.Uint32()&0xffffff)
			}
		}},
		{"small edits", 640, 480, Options{}, func(f *screen.Frame, step int, rng *rand.Rand) {
			for i := 0; i < 1+rng.IntN(6); i++ {
				setPix(f, rng.IntN(640), rng.IntN(480), rng.Uint32()&0xffffff)
			}
		}},
		{"lossless noise", 200, 130, Options{Lossless: true}, func(f *screen.Frame, step int, rng *rand.Rand) {
			noise(f, uint64(step))
		}},
		{"edge tiles with many colours", 70, 69, Options{}, func(f *screen.Frame, step int, rng *rand.Rand) {
			noise(f, uint64(step))
			fillRect(f, screen.Rect{X: 0, Y: 0, W: 64, H: 64}, 0x123456)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 7))
			e, d := NewEncoder(c.opts), NewDecoder(Limits{})
			f := newFrame(t, c.w, c.h)
			for step := 0; step < 30; step++ {
				c.draw(f, step, rng)
				u := encode(t, e, f, false)
				if step == 0 && !u.Full {
					t.Fatal("first update not full")
				}
				if u.Stats.JPEG != 0 {
					t.Fatalf("step %d: %d JPEG tiles in lossless content", step, u.Stats.JPEG)
				}
				apply(t, d, u)
				sameBGR(t, d.Frame(), f)
			}
		})
	}
}

func TestUnchangedFrameSendsNothing(t *testing.T) {
	e := NewEncoder(Options{})
	f := newFrame(t, 300, 200)
	newText(1, 30, 10).draw(f)
	if u := encode(t, e, f, false); len(u.Chunks) == 0 || u.ID != 1 {
		t.Fatalf("first update: %+v", u.Stats)
	}
	if u := encode(t, e, f, false); len(u.Chunks) != 0 {
		t.Fatalf("unchanged frame gave %d chunks", len(u.Chunks))
	}
	setPix(f, 299, 199, 0xff)
	u := encode(t, e, f, false)
	if u.ID != 2 || u.Stats.Tiles() != 1 || u.Full {
		t.Fatalf("one-pixel change: id %d, %+v, full %v", u.ID, u.Stats, u.Full)
	}
}

func TestPhotoPSNR(t *testing.T) {
	e, d := NewEncoder(Options{}), NewDecoder(Limits{})
	f := newFrame(t, 640, 400)
	photo(f, f.Bounds(), 1)
	u := encode(t, e, f, false)
	if u.Stats.JPEG < u.Stats.Tiles()/2 {
		t.Fatalf("photo-like frame: %+v, want mostly JPEG", u.Stats)
	}
	apply(t, d, u)
	if p := psnr(d.Frame(), f); p < 30 {
		t.Fatalf("PSNR %.1f dB, want ≥ 30", p)
	}
	// A region changes: only its tiles are sent, and the quality holds.
	photo(f, screen.Rect{X: 100, Y: 100, W: 100, H: 50}, 2)
	u = encode(t, e, f, false)
	if n := u.Stats.Tiles(); n == 0 || n > 6 {
		t.Fatalf("changed region: %d tiles", n)
	}
	apply(t, d, u)
	if p := psnr(d.Frame(), f); p < 30 {
		t.Fatalf("PSNR %.1f dB after the change, want ≥ 30", p)
	}
}

func TestSizeChange(t *testing.T) {
	e, d := NewEncoder(Options{}), NewDecoder(Limits{})
	for i, sz := range [][2]int{{300, 200}, {1030, 777}, {64, 64}, {1, 1}, {300, 200}} {
		f := newFrame(t, sz[0], sz[1])
		newText(uint64(i), sz[0]/8, sz[1]/16).draw(f)
		u := encode(t, e, f, false)
		if !u.Full {
			t.Fatalf("size %v: update not full", sz)
		}
		res, err := d.Apply(u.Chunks[0])
		if err != nil || !res.Resized || !res.Full {
			t.Fatalf("size %v: %+v, %v", sz, res, err)
		}
		for _, c := range u.Chunks[1:] {
			if _, err := d.Apply(c); err != nil {
				t.Fatal(err)
			}
		}
		sameBGR(t, d.Frame(), f)
	}
}

func TestPersistentStream(t *testing.T) {
	tx := newText(5, 1600/8, 1080/16)
	f := newFrame(t, 1920, 1080)
	tx.draw(f)
	e, d := NewEncoder(Options{}), NewDecoder(Limits{})
	apply(t, d, encode(t, e, f, false))
	// The window moves right by two tiles: no tile is where it was, and no
	// copy tile applies (copies follow vertical scrolls), but every tile's
	// data is in the stream's history.
	fillRect(f, f.Bounds(), tx.bg)
	tx.x0 = 128
	tx.draw(f)
	u := encode(t, e, f, false)
	if u.Full || u.Stats.Palette == 0 || u.Stats.Copy != 0 {
		t.Fatalf("moved window: full %v, %+v", u.Full, u.Stats)
	}
	apply(t, d, u)
	sameBGR(t, d.Frame(), f)
	// The same tiles without the history cost far more.
	alone := encode(t, NewEncoder(Options{}), f, true)
	if u.Stats.Bytes*10 > alone.Stats.Bytes {
		t.Fatalf("scroll with history %d bytes, a fresh stream %d", u.Stats.Bytes, alone.Stats.Bytes)
	}
	if testing.Verbose() {
		t.Logf("moved window: %d bytes with history, %d without", u.Stats.Bytes, alone.Stats.Bytes)
	}
	// A decoder that missed the first update cannot join without a refresh.
	late := NewDecoder(Limits{})
	if _, err := late.Apply(u.Chunks[0]); err == nil {
		t.Fatal("a late decoder accepted an update that is not full")
	}
	e.Reset()
	full := encode(t, e, f, false)
	if !full.Full || full.Chunks[0][6]&FlagZstdReset == 0 {
		t.Fatal("update after Reset is not full with a zstd reset")
	}
	late = NewDecoder(Limits{})
	apply(t, late, full)
	sameBGR(t, late.Frame(), f)
	apply(t, d, full) // the old decoder follows the reset too
	sameBGR(t, d.Frame(), f)
}

func TestChunking1080p(t *testing.T) {
	for _, opts := range []Options{{}, {Lossless: true}} {
		e, d := NewEncoder(opts), NewDecoder(Limits{})
		f := newFrame(t, 1920, 1080)
		noise(f, 9)
		u := encode(t, e, f, false)
		if len(u.Chunks) < 2 {
			t.Fatalf("%+v: a noisy 1080p frame fits %d chunk", opts, len(u.Chunks))
		}
		apply(t, d, u)
		if opts.Lossless {
			sameBGR(t, d.Frame(), f)
		} else if p := psnr(d.Frame(), f); p < 10 {
			t.Fatalf("noise PSNR %.1f dB", p) // JPEG of noise: only a sanity floor
		}
		// The next update continues the stream in the same decoder.
		noise(f, 10)
		apply(t, d, encode(t, e, f, false))
		if opts.Lossless {
			sameBGR(t, d.Frame(), f)
		}
	}
}

// TestLongStream decodes more data through one zstd stream than the
// decoder's window limit: the limit bounds the history, not the stream.
func TestLongStream(t *testing.T) {
	e, d := NewEncoder(Options{Lossless: true}), NewDecoder(Limits{MaxWindow: 4 << 20})
	f := newFrame(t, 512, 512)
	total := 0
	for step := 0; total < 3*DefaultMaxWindow; step++ {
		noise(f, uint64(step))
		u := encode(t, e, f, false)
		if step > 0 && u.Full {
			t.Fatal("unexpected full update")
		}
		total += u.Stats.ZstdIn
		apply(t, d, u)
	}
	sameBGR(t, d.Frame(), f)
}

// TestScrollCopies scrolls a terminal both ways: the moved tiles travel as
// copy tiles, and the framebuffer stays exact.
func TestScrollCopies(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	tx := newText(6, 1280/8, 720/16)
	f := newFrame(t, 1280, 720)
	tx.draw(f)
	e, d := NewEncoder(Options{}), NewDecoder(Limits{})
	apply(t, d, encode(t, e, f, false))
	up := func(n int) { tx.scroll(n, rng) }
	down := func(n int) {
		copy(tx.cells[n*tx.cols:], tx.cells[:len(tx.cells)-n*tx.cols])
		for i := 0; i < n*tx.cols; i++ {
			tx.cells[i] = uint8(rng.IntN(len(tx.g)))
		}
	}
	for _, step := range []struct {
		name  string
		move  func(int)
		lines int
		share int // at least 1/share of the tiles are copies
	}{{"up 5", up, 5, 2}, {"down 3", down, 3, 2}, {"up 30", up, 30, 5}, {"down 1", down, 1, 2}} {
		step.move(step.lines)
		tx.draw(f)
		u := encode(t, e, f, false)
		if u.Stats.Copy == 0 || u.Stats.Copy < u.Stats.Tiles()/step.share {
			t.Fatalf("%s: %+v, want mostly copy tiles", step.name, u.Stats)
		}
		apply(t, d, u)
		sameBGR(t, d.Frame(), f)
	}
}
