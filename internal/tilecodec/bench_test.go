package tilecodec

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/screen"
)

// desktop draws a synthetic 1920×1080 desktop: a solid background, a
// terminal window of text, a photo and a title bar.
func desktop(b testing.TB) *screen.Frame {
	f := newFrame(b, 1920, 1080)
	fillRect(f, f.Bounds(), 0x3a6ea5)
	tx := newText(1, 100, 40)
	tx.x0, tx.y0 = 80, 120
	tx.draw(f)
	fillRect(f, screen.Rect{X: 80, Y: 90, W: 800, H: 30}, 0xe0e0e0)
	photo(f, screen.Rect{X: 1000, Y: 200, W: 800, H: 500}, 2)
	return f
}

// cpuTime is the process's user+system CPU time: on a shared machine it
// measures the work, where wall-clock time also measures the neighbours.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// meter sums the bytes and the CPU time of the measured calls.
type meter struct {
	bytes int
	cpu   time.Duration
}

// encode runs and measures one Encode.
func (m *meter) encode(b *testing.B, e *Encoder, f *screen.Frame, full bool) {
	t0 := cpuTime(b)
	u, err := e.Encode(f, full)
	m.cpu += cpuTime(b) - t0
	if err != nil {
		b.Fatal(err)
	}
	m.bytes += u.Stats.Bytes
}

// report adds bytes and CPU milliseconds per update to the results.
func (m *meter) report(b *testing.B) {
	b.ReportMetric(float64(m.bytes)/float64(b.N), "B/update")
	b.ReportMetric(float64(m.cpu.Microseconds())/1000/float64(b.N), "cpu-ms/update")
}

func BenchmarkEncodeFull1080p(b *testing.B) {
	f := desktop(b)
	e := NewEncoder(Options{})
	var m meter
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.encode(b, e, f, true)
	}
	m.report(b)
}

// BenchmarkEncodeTyping types 7 characters into a full-screen terminal per
// update.
func BenchmarkEncodeTyping(b *testing.B) {
	tx := newText(2, 240, 67)
	f := newFrame(b, 1920, 1080)
	tx.draw(f)
	e := NewEncoder(Options{})
	if _, err := e.Encode(f, false); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	cell := 0
	var m meter
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for k := 0; k < 7; k++ {
			c := cell % len(tx.cells)
			tx.cells[c] = uint8(1 + rng.IntN(len(tx.g)-1))
			drawCell(f, tx, c)
			cell++
		}
		b.StartTimer()
		m.encode(b, e, f, false)
	}
	m.report(b)
}

// BenchmarkEncodeScroll scrolls a full-screen terminal by 30 lines per
// update.
func BenchmarkEncodeScroll(b *testing.B) {
	tx := newText(3, 240, 67)
	f := newFrame(b, 1920, 1080)
	tx.draw(f)
	e := NewEncoder(Options{})
	if _, err := e.Encode(f, false); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	var m meter
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		tx.scroll(30, rng)
		tx.draw(f)
		b.StartTimer()
		m.encode(b, e, f, false)
	}
	m.report(b)
}

func BenchmarkDecodeFull1080p(b *testing.B) {
	u, err := NewEncoder(Options{}).Encode(desktop(b), true)
	if err != nil {
		b.Fatal(err)
	}
	m := meter{bytes: u.Stats.Bytes * b.N}
	b.ResetTimer()
	t0 := cpuTime(b)
	for i := 0; i < b.N; i++ {
		d := NewDecoder(Limits{})
		for _, c := range u.Chunks {
			if _, err := d.Apply(c); err != nil {
				b.Fatal(err)
			}
		}
		d.Close()
	}
	m.cpu = cpuTime(b) - t0
	m.report(b)
}

func drawCell(f *screen.Frame, tx *text, c int) {
	row, col := c/tx.cols, c%tx.cols
	gl := tx.g[tx.cells[c]]
	for y := 0; y < 16; y++ {
		for x := 0; x < 8; x++ {
			colour := tx.bg
			if gl[y]&(0x80>>x) != 0 {
				colour = tx.fg
			}
			setPix(f, tx.x0+col*8+x, tx.y0+row*16+y, colour)
		}
	}
}
