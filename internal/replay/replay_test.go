package replay

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/tilecodec"
	"github.com/tether-support/tether/recordings"
)

var start = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// testFrame draws a deterministic w×h screen: coloured bands plus
// text-like strokes (few colours per tile, so palette tiles through zstd).
func testFrame(t *testing.T, w, h int, seed byte) *screen.Frame {
	t.Helper()
	f, err := screen.NewFrame(w, h)
	if err != nil {
		t.Fatal(err)
	}
	for y := range h {
		for x := range w {
			i := y*f.Stride + x*4
			c := [3]byte{seed * 40, byte(y / 20 * 30), 200}
			if (x*7+y*3+int(seed))%11 < 3 && y%9 < 6 {
				c = [3]byte{10, 10, seed * 9}
			}
			copy(f.Pix[i:], c[:])
		}
	}
	return f
}

// fillTile paints tile col,row of f with one colour (a solid tile).
func fillTile(f *screen.Frame, col, row int, c byte) {
	for y := row * 64; y < min((row+1)*64, f.Height); y++ {
		for x := col * 64; x < min((col+1)*64, f.Width); x++ {
			i := y*f.Stride + x*4
			f.Pix[i], f.Pix[i+1], f.Pix[i+2] = c, c, c
		}
	}
}

func clone(f *screen.Frame) *screen.Frame {
	c := *f
	c.Pix = bytes.Clone(f.Pix)
	return &c
}

func sameBGR(a, b *screen.Frame) bool {
	if a == nil || b == nil || a.Width != b.Width || a.Height != b.Height {
		return false
	}
	for y := range a.Height {
		for x := range a.Width {
			i, j := y*a.Stride+x*4, y*b.Stride+x*4
			if !bytes.Equal(a.Pix[i:i+3], b.Pix[j:j+3]) {
				return false
			}
		}
	}
	return true
}

// scenario is a recorded desktop session and the frame shown after each
// moment.
type scenario struct {
	pt     []byte
	at     []time.Duration
	frames []*screen.Frame
	keyAt  time.Duration
}

// record builds a desktop recording the way the agent does: live updates
// from one encoder, a keyframe (fresh encoder, ID of the last live update)
// and a refresh, with cursor and markers in between.
func record(t *testing.T) scenario {
	t.Helper()
	var buf bytes.Buffer
	cw, err := recordings.NewCastWriter(&buf, recordings.CastHeader{Width: 80, Height: 24}, start)
	if err != nil {
		t.Fatal(err)
	}
	cw.Marker(start, "consent granted: screen-view")
	dw, err := cw.Desktop()
	if err != nil {
		t.Fatal(err)
	}
	enc := tilecodec.NewEncoder(tilecodec.Options{Lossless: true})
	defer enc.Close()
	var sc scenario
	put := func(at time.Duration, k recordings.RecordKind, u tilecodec.Update) {
		for _, c := range u.Chunks {
			if err := dw.Record(start.Add(at), k, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	live := func(at time.Duration, f *screen.Frame, full bool) uint32 {
		u, err := enc.Encode(f, full)
		if err != nil {
			t.Fatal(err)
		}
		put(at, recordings.RecUpdate, u)
		sc.at, sc.frames = append(sc.at, at), append(sc.frames, clone(f))
		return u.ID
	}
	f0 := testFrame(t, 200, 130, 1)
	live(0, f0, false)
	cur := protocol.AppendScreenCursor(nil, protocol.ScreenCursor{X: 17, Y: 9, Flags: protocol.CursorVisible})[1:]
	dw.Record(start.Add(500*time.Millisecond), recordings.RecCursor, cur)
	f1 := testFrame(t, 200, 130, 2)
	id := live(time.Second, f1, false)
	// The keyframe: f1 again, self-contained, with the ID of update id.
	kenc := tilecodec.NewEncoder(tilecodec.Options{Lossless: true})
	k, err := kenc.Encode(f1, true)
	kenc.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range k.Chunks {
		binary.BigEndian.PutUint32(c, id)
	}
	sc.keyAt = 2 * time.Second
	put(sc.keyAt, recordings.RecKeyframe, k)
	f2 := clone(f1)
	fillTile(f2, 1, 1, 0x80) // solid tiles only: no zstd data after the keyframe
	fillTile(f2, 2, 0, 0x20)
	live(3*time.Second, f2, false)
	dw.Marker(start.Add(3500*time.Millisecond), "paused by the user")
	f3 := testFrame(t, 160, 100, 3) // a resize: a full update
	live(4*time.Second, f3, false)
	f4 := testFrame(t, 160, 100, 4)
	live(5*time.Second, f4, false)
	sc.pt = buf.Bytes()
	return sc
}

// want returns the frame shown at t.
func (sc scenario) want(t time.Duration) *screen.Frame {
	var f *screen.Frame
	for i, at := range sc.at {
		if at <= t {
			f = sc.frames[i]
		}
	}
	return f
}

// TestFrameAt: the framebuffer rebuilt at any moment is the one the viewer
// had then, whether reached from the start or from a keyframe.
func TestFrameAt(t *testing.T) {
	sc := record(t)
	rec, err := Load(bytes.NewReader(sc.pt), 0)
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Desktop || rec.Cut != nil || rec.Duration != 5*time.Second || len(rec.Markers) != 2 {
		t.Fatalf("desktop %v, cut %v, duration %v, markers %v", rec.Desktop, rec.Cut, rec.Duration, rec.Markers)
	}
	if i := rec.seekBefore(3 * time.Second); rec.Records[i].Kind != recordings.RecKeyframe {
		t.Fatalf("the seek point before 3s is a %s, want the keyframe", rec.Records[i].Kind)
	}
	for _, at := range []time.Duration{0, time.Second, 2500 * time.Millisecond, 3 * time.Second, 3600 * time.Millisecond,
		4 * time.Second, 5 * time.Second, time.Hour} {
		f, err := rec.FrameAt(at)
		if err != nil {
			t.Fatalf("at %v: %v", at, err)
		}
		if !sameBGR(f, sc.want(min(at, rec.Duration))) {
			t.Errorf("at %v: the rebuilt frame differs", at)
		}
	}
	// One player going forward, then back, then forward again.
	p := rec.NewPlayer()
	defer p.Close()
	for _, at := range []time.Duration{0, 5 * time.Second, 3 * time.Second, 1 * time.Second, 4500 * time.Millisecond, 3200 * time.Millisecond} {
		p.AdvanceTo(at)
		if p.Err() != nil || !sameBGR(p.Frame(), sc.want(at)) {
			t.Fatalf("player at %v: err %v or a different frame", at, p.Err())
		}
		if x, y, vis, ok := p.Cursor(); at >= time.Second && (!ok || !vis || x != 17 || y != 9) {
			t.Fatalf("player at %v: cursor %d,%d visible %v known %v", at, x, y, vis, ok)
		}
	}
}

// TestTake: a player reports the replaced framebuffer once, then only the
// tiles that changed.
func TestTake(t *testing.T) {
	rec, err := Load(bytes.NewReader(record(t).pt), 0)
	if err != nil {
		t.Fatal(err)
	}
	p := rec.NewPlayer()
	defer p.Close()
	p.AdvanceTo(2 * time.Second)
	if full, _ := p.Take(); !full {
		t.Fatal("the first frame was not reported full")
	}
	p.AdvanceTo(3 * time.Second)
	full, dirty := p.Take()
	if full || len(dirty) != 2 {
		t.Fatalf("after two solid tiles changed: full %v, %d dirty tiles", full, len(dirty))
	}
}

// cutReader returns b and then err, as a recordings.Reader of a recording
// cut short does.
type cutReader struct {
	b   []byte
	err error
}

func (c *cutReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, c.err
	}
	n := copy(p, c.b)
	c.b = c.b[n:]
	return n, nil
}

// TestTruncatedPlaysToTheCut: a recording cut in the middle of an update
// loads up to the cut, says so, and shows the last whole frame before it.
func TestTruncatedPlaysToTheCut(t *testing.T) {
	sc := record(t)
	full, err := Load(bytes.NewReader(sc.pt), 0)
	if err != nil {
		t.Fatal(err)
	}
	// Cut inside the update at 4 s: keep everything before it, and part of it.
	var off int
	for _, r := range full.Records {
		if r.Time >= 4*time.Second {
			break
		}
		off += recordings.RecordHeaderSize + len(r.Data)
	}
	head := bytes.Index(sc.pt, []byte(recordings.DesktopSwitch)) + len(recordings.DesktopSwitch) + 1
	cut := fmtErr{recordings.ErrTruncated}
	rec, err := Load(&cutReader{sc.pt[:head+off+30], cut}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(rec.Cut, recordings.ErrTruncated) {
		t.Fatalf("Cut = %v, want ErrTruncated", rec.Cut)
	}
	f, err := rec.FrameAt(rec.Duration)
	if err != nil || !sameBGR(f, sc.want(3500*time.Millisecond)) {
		t.Fatalf("the last frame before the cut: err %v or a different frame", err)
	}
	// A failure other than a cut is an error.
	if _, err := Load(&cutReader{sc.pt[:head+off], io.ErrClosedPipe}, 0); err == nil {
		t.Fatal("a read error loaded")
	}
}

type fmtErr struct{ error }

func (e fmtErr) Unwrap() error { return e.error }

// TestLoadLimit: a recording over the limit is refused, not half-loaded.
func TestLoadLimit(t *testing.T) {
	if _, err := Load(bytes.NewReader(record(t).pt), 1000); err == nil {
		t.Fatal("a recording over the limit loaded")
	}
}

// TestImage: BGRX becomes opaque RGBA.
func TestImage(t *testing.T) {
	f, _ := screen.NewFrame(2, 1)
	copy(f.Pix, []byte{1, 2, 3, 0, 4, 5, 6, 0})
	img := Image(f)
	if !bytes.Equal(img.Pix, []byte{3, 2, 1, 255, 6, 5, 4, 255}) {
		t.Fatalf("got %v", img.Pix)
	}
}
