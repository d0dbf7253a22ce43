package tilecodec

import (
	"bytes"
	"image"
	"image/jpeg"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// mkChunk assembles a chunk from a header and its records and data.
func mkChunk(id uint32, index uint16, flags uint8, w, h int, tiles int, body ...[]byte) []byte {
	b := make([]byte, HeaderSize)
	header{id: id, index: index, flags: flags, width: uint16(w), height: uint16(h), tiles: uint16(tiles)}.put(b)
	for _, p := range body {
		b = append(b, p...)
	}
	return b
}

func copyRec(col, row, sx, sy int) []byte {
	return []byte{uint8(col), uint8(row), byte(KindCopy), uint8(sx >> 8), uint8(sx), uint8(sy >> 8), uint8(sy)}
}

func solidRec(col, row int) []byte { return []byte{uint8(col), uint8(row), byte(KindSolid), 1, 2, 3} }

// fourSolid is a valid full update of a 100×70 screen (2×2 tiles).
func fourSolid(id uint32, flags uint8) []byte {
	return mkChunk(id, 0, flags|FlagFinal|FlagFull, 100, 70, 4, solidRec(0, 0), solidRec(1, 0), solidRec(0, 1), solidRec(1, 1))
}

// zseg compresses each part and flushes after it, as one zstd stream.
func zseg(t testing.TB, window int, parts ...[]byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := zstd.NewWriter(&b, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(window))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// paletteData is a palette tile's data for a 64×64 tile with n colours and
// every index set to idx.
func paletteData(n int, idx uint8) []byte {
	b := []byte{uint8(n - 1)}
	for i := 0; i < n; i++ {
		b = append(b, uint8(i), uint8(i), uint8(i))
	}
	bits := paletteBits(n)
	var v uint8
	for i := 0; i < 8/bits; i++ {
		v = v<<bits | idx
	}
	return append(b, bytes.Repeat([]byte{v}, 64*(64*bits/8))...)
}

func jpegOf(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, image.NewGray(image.Rect(0, 0, w, h)), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegRec(col, row int, j []byte) []byte {
	return append([]byte{uint8(col), uint8(row), byte(KindJPEG), uint8(len(j) >> 8), uint8(len(j))}, j...)
}

func TestHostileChunks(t *testing.T) {
	const ff = FlagFinal | FlagFull | FlagZstdReset
	palRec := []byte{1, 0, byte(KindPalette)}
	rest := [][]byte{solidRec(0, 0), solidRec(0, 1), solidRec(1, 1)}
	withPal := func(z []byte) []byte {
		return mkChunk(1, 0, ff, 100, 70, 4, append(append(bytes.Join(rest, nil), palRec...), z...))
	}
	good := paletteData(2, 1)
	cases := []struct {
		name   string
		chunks [][]byte // all but the last are valid
		want   string
	}{
		{"empty", [][]byte{{}}, "shorter than"},
		{"short header", [][]byte{fourSolid(1, 0)[:12]}, "shorter than"},
		{"unknown flag", [][]byte{mkChunk(1, 0, 0x80|ff, 100, 70, 0)}, "unknown chunk flags"},
		{"reset on a later chunk", [][]byte{
			mkChunk(1, 0, FlagFull, 100, 70, 4, solidRec(0, 0), solidRec(1, 0), solidRec(0, 1), solidRec(1, 1)),
			mkChunk(1, 1, FlagZstdReset|FlagFinal, 100, 70, 0)}, "other than the first"},
		{"zero width", [][]byte{mkChunk(1, 0, ff, 0, 70, 0)}, "outside"},
		{"above MaxDimension", [][]byte{mkChunk(1, 0, ff, 8193, 70, 0)}, "outside"},
		{"above the limit", [][]byte{mkChunk(1, 0, ff, 5000, 70, 0)}, "exceeds the limit"},
		{"first not full", [][]byte{mkChunk(1, 0, FlagFinal, 100, 70, 1, solidRec(0, 0))}, "not a full one"},
		{"first chunk index 1", [][]byte{mkChunk(1, 1, FlagFinal, 100, 70, 0)}, "starts with chunk 1"},
		{"count beyond records", [][]byte{mkChunk(1, 0, ff, 100, 70, 5, bytes.Join(rest, nil), solidRec(1, 0))}, "cut short"},
		{"column outside", [][]byte{mkChunk(1, 0, ff, 100, 70, 1, solidRec(2, 0))}, "outside the 100x70 screen"},
		{"row outside", [][]byte{mkChunk(1, 0, ff, 100, 70, 1, solidRec(0, 2))}, "outside the 100x70 screen"},
		{"column 255", [][]byte{mkChunk(1, 0, ff, 100, 70, 1, solidRec(255, 255))}, "outside"},
		{"tile twice", [][]byte{mkChunk(1, 0, ff, 100, 70, 2, solidRec(0, 0), solidRec(0, 0))}, "twice"},
		{"kind 0", [][]byte{mkChunk(1, 0, ff, 100, 70, 1, []byte{0, 0, 0})}, "unknown kind 0x00"},
		{"kind 6", [][]byte{mkChunk(1, 0, ff, 100, 70, 1, []byte{0, 0, 6})}, "unknown kind 0x06"},
		{"copy cut short", [][]byte{fourSolid(1, 0), mkChunk(2, 0, FlagFinal, 100, 70, 1, []byte{0, 0, 5, 0, 0, 0})}, "cut short"},
		{"copy in a full update", [][]byte{mkChunk(1, 0, ff, 100, 70, 4, copyRec(0, 0, 0, 6), solidRec(1, 0), solidRec(0, 1), solidRec(1, 1))}, "in a full update"},
		{"copy source outside", [][]byte{fourSolid(1, 0), mkChunk(2, 0, FlagFinal, 100, 70, 1, copyRec(0, 0, 0, 7))}, "outside the screen"},
		{"copy source far outside", [][]byte{fourSolid(1, 0), mkChunk(2, 0, FlagFinal, 100, 70, 1, copyRec(0, 0, 0xffff, 0xffff))}, "outside the screen"},
		{"copy edge tile source outside", [][]byte{fourSolid(1, 0), mkChunk(2, 0, FlagFinal, 100, 70, 1, copyRec(1, 0, 65, 0))}, "outside the screen"},
		{"copy from a tile drawn before", [][]byte{fourSolid(1, 0), mkChunk(2, 0, FlagFinal, 100, 70, 2, solidRec(0, 1), copyRec(0, 0, 0, 6))}, "overlaps a tile drawn earlier"},
		{"copy from a tile of an earlier chunk", [][]byte{fourSolid(1, 0),
			mkChunk(2, 0, 0, 100, 70, 1, solidRec(1, 0)),
			mkChunk(2, 1, FlagFinal, 100, 70, 1, copyRec(0, 0, 30, 0))}, "overlaps a tile drawn earlier"},
		{"solid cut", [][]byte{mkChunk(1, 0, ff, 100, 70, 1, []byte{0, 0, 1, 9, 9})}, "cut short"},
		{"jpeg length 0", [][]byte{mkChunk(1, 0, ff, 100, 70, 1, []byte{0, 0, 4, 0, 0})}, "length 0"},
		{"jpeg beyond chunk", [][]byte{mkChunk(1, 0, ff, 100, 70, 1, []byte{0, 0, 4, 0xff, 0xff, 1, 2})}, "length 65535"},
		{"jpeg wrong size", [][]byte{mkChunk(1, 0, ff, 100, 70, 1, jpegRec(0, 0, jpegOf(t, 32, 32)))}, "is 32x32, the tile is 64x64"},
		{"jpeg huge declared", [][]byte{mkChunk(1, 0, ff, 100, 70, 1, jpegRec(0, 0, resizedJPEG(t, 8000, 8000)))}, "is 8000x8000"},
		{"jpeg garbage", [][]byte{mkChunk(1, 0, ff, 100, 70, 1, jpegRec(0, 0, []byte{0xff, 0xd8, 0xff, 1, 2, 3}))}, "jpeg tile at 0,0"},
		{"palette without a stream", [][]byte{fourSolid(1, 0), // no zstd reset: no stream ever started
			mkChunk(2, 0, FlagFinal, 100, 70, 1, palRec, zseg(t, 1<<20, good))}, "without a zstd stream"},
		{"zstd garbage", [][]byte{withPal([]byte("not zstd at all"))}, "zstd"},
		{"zstd missing", [][]byte{withPal(nil)}, "zstd"},
		{"zstd data short", [][]byte{withPal(zseg(t, 1<<20, good[:100]))}, "zstd"},
		{"compressed bytes left over", [][]byte{withPal(zseg(t, 1<<20, good, []byte("more")))}, "left after the last tile"},
		{"bytes after inline tiles", [][]byte{append(fourSolid(1, 0), 0)}, "after the last tile"},
		{"palette of one colour", [][]byte{withPal(zseg(t, 1<<20, paletteData(1, 0)))}, "1 colour"},
		{"palette index out of range", [][]byte{withPal(zseg(t, 1<<20, paletteData(3, 3)))}, "index 3 of 3"},
		{"zstd window too large", [][]byte{withPal(zseg(t, 64<<20, good))}, "window"},
		{"full update missing a tile", [][]byte{mkChunk(1, 0, ff, 100, 70, 3, rest...)}, "carries 3 of 4"},
		{"update ID skipped", [][]byte{fourSolid(1, 0), mkChunk(3, 0, FlagFinal, 100, 70, 1, solidRec(0, 0))}, "follows update 1"},
		{"update ID repeated", [][]byte{fourSolid(1, 0), fourSolid(1, 0)}, "follows update 1"},
		{"size change not full", [][]byte{fourSolid(1, 0), mkChunk(2, 0, FlagFinal, 200, 70, 1, solidRec(0, 0))}, "not full"},
		{"size change within an update", [][]byte{
			mkChunk(1, 0, FlagFull, 100, 70, 1, solidRec(0, 0)),
			mkChunk(1, 1, FlagFinal, 200, 70, 1, solidRec(1, 0))}, "size changed within"},
		{"chunk index skipped", [][]byte{
			mkChunk(1, 0, FlagFull, 100, 70, 1, solidRec(0, 0)),
			mkChunk(1, 2, FlagFinal, 100, 70, 1, solidRec(1, 0))}, "expected chunk 1"},
		{"tile twice across chunks", [][]byte{
			mkChunk(1, 0, FlagFull, 100, 70, 1, solidRec(0, 0)),
			mkChunk(1, 1, FlagFinal, 100, 70, 1, solidRec(0, 0))}, "twice"},
		{"chunk too large", [][]byte{append(fourSolid(1, 0), make([]byte, MaxChunk)...)}, "exceeds 65536"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := NewDecoder(Limits{MaxWidth: 4096, MaxHeight: 4096})
			for i, ch := range c.chunks[:len(c.chunks)-1] {
				if _, err := d.Apply(ch); err != nil {
					t.Fatalf("valid chunk %d refused: %v", i, err)
				}
			}
			_, err := d.Apply(c.chunks[len(c.chunks)-1])
			if err == nil || !strings.HasPrefix(err.Error(), "tilecodec: ") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if _, again := d.Apply(fourSolid(1, 0)); again == nil {
				t.Fatal("the decoder accepted a chunk after an error")
			}
		})
	}
}

// TestHostileValidBaseline checks that the hostile cases' building blocks
// are themselves valid, so each case fails for the reason it names.
func TestHostileValidBaseline(t *testing.T) {
	d := NewDecoder(Limits{})
	z := zseg(t, 1<<20, paletteData(2, 1))
	chunks := [][]byte{
		mkChunk(1, 0, FlagFull|FlagZstdReset|FlagFinal, 100, 70, 4,
			solidRec(0, 0), jpegRec(0, 1, jpegOf(t, 64, 6)), solidRec(1, 1), []byte{1, 0, byte(KindPalette)}, z),
		mkChunk(2, 0, FlagFinal, 100, 70, 1, solidRec(0, 0)),
	}
	for i, c := range chunks {
		if res, err := d.Apply(c); err != nil || !res.Complete {
			t.Fatalf("chunk %d: %+v, %v", i, res, err)
		}
	}
	px := d.Frame().Pix[64*4:]
	if px[0] != 1 || px[1] != 1 || px[2] != 1 {
		t.Fatalf("palette tile pixel %v, want colour 1", px[:3])
	}
}

// resizedJPEG is a 32×32 JPEG whose frame header claims w×h.
func resizedJPEG(t testing.TB, w, h int) []byte {
	j := jpegOf(t, 32, 32)
	i := bytes.Index(j, []byte{0xff, 0xc0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	j[i+5], j[i+6], j[i+7], j[i+8] = uint8(h>>8), uint8(h), uint8(w>>8), uint8(w)
	return j
}
