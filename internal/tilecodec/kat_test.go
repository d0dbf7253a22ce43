package tilecodec

import (
	"bufio"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/screen"
)

var updateKAT = flag.Bool("update-kat", false, "rewrite testdata/kat from the generated frames")

// The known-answer vectors (PROTOCOL.md §8.6): testdata/kat/NN-frame.hex is
// a frame ("W H", then one line of B G R X hex per row, X = 00) and
// NN-chunks.hex the chunks a lossless Encoder (Options{Lossless: true})
// emits for it after the frames before it, one hex line per chunk.
// jpeg-*.hex hold a frame and one chunk with a JPEG tile, as Go's
// image/jpeg decodes it.

// katFrames generates the lossless sequence.
func katFrames(t testing.TB) []*screen.Frame {
	// 3×2 tiles: 2-bit, 1-bit and 4-bit palettes, a raw edge tile, two solid ones.
	f1 := newFrame(t, 136, 104)
	fillRect(f1, f1.Bounds(), 0x2040c0)
	tx := newText(11, 8, 2)
	tx.x0, tx.y0 = 0, 4
	tx.draw(f1)
	fillRect(f1, screen.Rect{X: 10, Y: 40, W: 20, H: 10}, 0xffff00) // a fourth colour: 2-bit
	for y := 0; y < 104; y++ {
		for x := 64; x < 128; x++ {
			if y < 64 { // two colours: 1-bit
				setPix(f1, x, y, uint32((x+y)%2)*0xffffff)
			} else { // six colours: 4-bit
				setPix(f1, x, y, 0x100000+uint32((x/4)%6)*0x202020)
			}
		}
	}
	for y := 0; y < 64; y++ { // many colours in an 8-pixel-wide tile: raw
		for x := 128; x < 136; x++ {
			setPix(f1, x, y, uint32(x*31+y*977)&0xffffff)
		}
	}
	fillRect(f1, screen.Rect{X: 128, Y: 64, W: 8, H: 40}, 0x00ff00)
	f2 := clone(t, f1) // a small edit in tile 0,0
	setPix(f2, 5, 5, 0xffff00)
	setPix(f2, 6, 5, 0xffff00)
	f3 := clone(t, f2) // tile 0,0's top 40 rows repeated in tile 0,1: zstd history
	for y := 0; y < 40; y++ {
		copy(f3.Pix[(64+y)*f3.Stride:(64+y)*f3.Stride+64*4], f3.Pix[y*f3.Stride:y*f3.Stride+64*4])
	}
	f4 := newFrame(t, 40, 30) // size change: 17 colours, an 8-bit palette
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			setPix(f4, x, y, uint32((x/3+y)%17)*0x0f0f0f)
		}
	}
	f5 := newFrame(t, 136, 192) // size change: text, 3×3 tiles
	tx5 := newText(12, 17, 12)
	tx5.draw(f5)
	f6 := newFrame(t, 136, 192) // scrolled up one line: copy tiles
	tx5.scroll(1, rand.New(rand.NewPCG(1, 1)))
	tx5.draw(f6)
	frames := []*screen.Frame{f1, f2, f3, f4, f5, f6}
	for _, f := range frames {
		for i := 3; i < len(f.Pix); i += 4 {
			f.Pix[i] = 0
		}
	}
	return frames
}

func clone(t testing.TB, f *screen.Frame) *screen.Frame {
	c := newFrame(t, f.Width, f.Height)
	copy(c.Pix, f.Pix)
	return c
}

func TestKnownAnswers(t *testing.T) {
	dir := filepath.Join("testdata", "kat")
	if *updateKAT {
		writeKAT(t, dir)
	}
	e, d := NewEncoder(Options{Lossless: true}), NewDecoder(Limits{})
	for i := 1; ; i++ {
		name := filepath.Join(dir, fmt.Sprintf("%02d", i))
		if _, err := os.Stat(name + "-frame.hex"); err != nil {
			if i < 7 {
				t.Fatalf("known-answer vector %d missing: %v", i, err)
			}
			break
		}
		f, chunks := readFrame(t, name+"-frame.hex"), readChunks(t, name+"-chunks.hex")
		u := encode(t, e, f, false)
		if i == 6 && u.Stats.Copy == 0 {
			t.Errorf("vector 6: %+v, want copy tiles", u.Stats)
		}
		if want := (Stats{Solid: 2, Palette: 3, Raw: 1}); i == 1 && (u.Stats.Solid != want.Solid || u.Stats.Palette != want.Palette || u.Stats.Raw != want.Raw) {
			t.Errorf("vector 1 tiles: %+v, want %+v", u.Stats, want)
		}
		if got, want := hexLines(u.Chunks), hexLines(chunks); got != want {
			t.Errorf("vector %d: encoder output differs from %s-chunks.hex (regenerate with -update-kat only for an intended change):\n got %s\nwant %s", i, name, got, want)
		}
		apply(t, d, Update{ID: u.ID, Chunks: chunks})
		sameBGR(t, d.Frame(), f)
	}
	jf, jc := readFrame(t, filepath.Join(dir, "jpeg-frame.hex")), readChunks(t, filepath.Join(dir, "jpeg-chunks.hex"))
	jd := NewDecoder(Limits{})
	if _, err := jd.Apply(jc[0]); err != nil {
		t.Fatal(err)
	}
	if jc[0][HeaderSize+2] != byte(KindJPEG) {
		t.Fatal("the JPEG vector has no JPEG tile")
	}
	sameBGR(t, jd.Frame(), jf)
}

func writeKAT(t *testing.T, dir string) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := NewEncoder(Options{Lossless: true})
	for i, f := range katFrames(t) {
		name := filepath.Join(dir, fmt.Sprintf("%02d", i+1))
		writeFile(t, name+"-frame.hex", frameHex(f))
		writeFile(t, name+"-chunks.hex", hexLines(encode(t, e, f, false).Chunks))
	}
	pf := newFrame(t, 64, 64)
	photo(pf, pf.Bounds(), 5)
	u := encode(t, NewEncoder(Options{}), pf, false)
	d := NewDecoder(Limits{})
	apply(t, d, u)
	writeFile(t, filepath.Join(dir, "jpeg-frame.hex"), frameHex(d.Frame()))
	writeFile(t, filepath.Join(dir, "jpeg-chunks.hex"), hexLines(u.Chunks))
}

func writeFile(t *testing.T, name, s string) {
	if err := os.WriteFile(name, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func frameHex(f *screen.Frame) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %d\n", f.Width, f.Height)
	for y := 0; y < f.Height; y++ {
		b.WriteString(hex.EncodeToString(f.Pix[y*f.Stride : y*f.Stride+f.Width*4]))
		b.WriteByte('\n')
	}
	return b.String()
}

func hexLines(chunks [][]byte) string {
	var b strings.Builder
	for _, c := range chunks {
		b.WriteString(hex.EncodeToString(c))
		b.WriteByte('\n')
	}
	return b.String()
}

func readLines(t *testing.T, name string) []string {
	t.Helper()
	fh, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var lines []string
	sc := bufio.NewScanner(fh)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func readFrame(t *testing.T, name string) *screen.Frame {
	lines := readLines(t, name)
	var w, h int
	if len(lines) == 0 {
		t.Fatalf("%s: empty", name)
	}
	if _, err := fmt.Sscanf(lines[0], "%d %d", &w, &h); err != nil || len(lines) != h+1 {
		t.Fatalf("%s: bad size line %q or %d rows", name, lines[0], len(lines)-1)
	}
	f := newFrame(t, w, h)
	for y := 0; y < h; y++ {
		row, err := hex.DecodeString(lines[y+1])
		if err != nil || len(row) != w*4 {
			t.Fatalf("%s: row %d: %v", name, y, err)
		}
		copy(f.Pix[y*f.Stride:], row)
	}
	return f
}

func readChunks(t *testing.T, name string) [][]byte {
	var chunks [][]byte
	for _, l := range readLines(t, name) {
		c, err := hex.DecodeString(l)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		chunks = append(chunks, c)
	}
	return chunks
}
