package viewer_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/viewer"
	"github.com/tether-support/tether/internal/viewer/browsertest"
)

// BenchmarkChromiumUpdate measures update → drawn (the page's
// acknowledgement after painting) through real headless Chromium for a
// whole 1920×1080 frame and for one 64×64 tile: the cost of sending raw
// RGBA over loopback and drawing it with putImageData.
func BenchmarkChromiumUpdate(b *testing.B) {
	for _, c := range []struct {
		name string
		r    screen.Rect
	}{{"full-1080p", screen.Rect{W: 1920, H: 1080}}, {"tile-64", screen.Rect{X: 640, Y: 320, W: 64, H: 64}}} {
		b.Run(c.name, func(b *testing.B) { benchUpdate(b, c.r) })
	}
}

func benchUpdate(b *testing.B, r screen.Rect) {
	v, err := viewer.New(viewer.Options{Device: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close(context.Background())
	v.State(protocol.ScreenState{Width: 1920, Height: 1080})
	br := browsertest.Start(b, 1280, 800)
	br.Navigate(v.URL())
	f, _ := screen.NewFrame(1920, 1080)
	drawn := make(chan struct{}, 1)
	send := func(id uint32, rect screen.Rect) time.Duration {
		for y := rect.Y; y < rect.Y+rect.H; y++ {
			for x := rect.X * 4; x < (rect.X+rect.W)*4; x++ {
				f.Pix[y*f.Stride+x] = byte(int(id) + x>>6)
			}
		}
		t0 := time.Now()
		v.Update(viewer.Update{ID: id, Frame: f, Rects: []screen.Rect{rect}, Drawn: func() { drawn <- struct{}{} }})
		<-drawn
		return time.Since(t0)
	}
	send(1, f.Bounds()) // the page's first picture
	var lat []time.Duration
	b.SetBytes(int64(r.W * r.H * 4))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lat = append(lat, send(uint32(i+2), r))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}
