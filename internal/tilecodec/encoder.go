package tilecodec

import (
	"bytes"
	"fmt"

	"github.com/klauspost/compress/zstd"

	"github.com/tether-support/tether/internal/screen"
)

// DefaultJPEGQuality is the JPEG quality used when Options.JPEGQuality is 0.
const DefaultJPEGQuality = 75

// encoderWindow is the encoder's zstd window: the history a compressed tile
// can refer to. A Decoder accepts up to Limits.MaxWindow.
const encoderWindow = 2 << 20

// zstdReserve bounds what zstd adds to a chunk's compressed tile data: a
// frame header (at most 18 bytes) after a reset and a 3-byte header per block.
const zstdReserve = 32

// Options configure an Encoder.
type Options struct {
	// JPEGQuality is the quality of JPEG tiles, 1–100; 0 means 75.
	JPEGQuality int
	// Lossless sends photo-like tiles raw (through zstd) instead of JPEG.
	Lossless bool
}

// Stats describe one update.
type Stats struct {
	Solid, Palette, Raw, JPEG, Copy int // tiles of each kind
	ZstdIn                          int // tile bytes written into the zstd stream
	Bytes                           int // total chunk bytes
}

// Tiles is the number of tiles in the update.
func (s Stats) Tiles() int { return s.Solid + s.Palette + s.Raw + s.JPEG + s.Copy }

// Update is one encoded screen update: its chunks, in order, each the payload
// of one InScreenUpdate message. An update without chunks means nothing
// changed; it consumed no ID.
type Update struct {
	ID     uint32
	Full   bool
	Chunks [][]byte
	Stats  Stats
}

// Encoder turns frames into updates, diffing against the last frame it sent.
// Every update it returns is assumed delivered, all chunks in order: a
// caller that drops one MUST call Reset (the decoder then needs the full
// update that follows). It is not safe for concurrent use.
type Encoder struct {
	opts Options
	prev *screen.Frame // what the decoder has, as the encoder sent it
	sent bool          // prev is valid (false before the first update and after Reset)
	// restart: the next update starts a new zstd stream (RestartStream)
	restart bool
	nextID  uint32
	zw      *zstd.Encoder
	zbuf    bytes.Buffer
	colors  colourSet
	jpeg    jpegScratch
	tile    []byte // one tile's zstd data
	build   chunkBuilder
	scroll  scrollFinder
	todo    []tileRef // changed tiles of the update being encoded
}

// tileRef is a tile's grid position and rectangle.
type tileRef struct {
	col, row int
	r        screen.Rect
}

// NewEncoder returns an Encoder whose first update is full.
func NewEncoder(opts Options) *Encoder {
	if opts.JPEGQuality <= 0 || opts.JPEGQuality > 100 {
		opts.JPEGQuality = DefaultJPEGQuality
	}
	e := &Encoder{opts: opts, nextID: 1, scroll: newScrollFinder()}
	zw, err := zstd.NewWriter(&e.zbuf, zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(encoderWindow), zstd.WithEncoderLevel(zstd.SpeedFastest),
		zstd.WithEncoderCRC(false), zstd.WithZeroFrames(false))
	if err != nil {
		panic(fmt.Sprintf("tilecodec: zstd options: %v", err)) // constant options: a bug
	}
	e.zw = zw
	return e
}

// Close releases the zstd encoder; the Encoder is unusable afterwards.
func (e *Encoder) Close() error {
	if err := e.zw.Close(); err != nil {
		return fmt.Errorf("tilecodec: zstd close: %w", err)
	}
	return nil
}

// Reset forgets the last sent frame: the next update is full and starts a
// new zstd stream (a new viewer, or a refresh it asked for).
func (e *Encoder) Reset() { e.sent = false }

// Encode returns the update that brings the decoder from the last sent frame
// to f: every tile when full is set, after Reset or after a size change, else
// only the tiles that differ. f is only read; the Encoder keeps a copy.
func (e *Encoder) Encode(f *screen.Frame, full bool) (Update, error) {
	u, err := e.encode(f, full)
	if err != nil {
		e.Reset() // the decoder's state is unknown now: start over
	}
	return u, err
}

func (e *Encoder) encode(f *screen.Frame, full bool) (Update, error) {
	if err := f.Validate(); err != nil {
		return Update{}, fmt.Errorf("tilecodec: encode: %w", err)
	}
	if !e.sent || e.prev.Width != f.Width || e.prev.Height != f.Height {
		full = true
	}
	if full {
		if e.prev == nil || e.prev.Width != f.Width || e.prev.Height != f.Height {
			prev, err := screen.NewFrame(f.Width, f.Height)
			if err != nil {
				return Update{}, fmt.Errorf("tilecodec: encode: %w", err)
			}
			e.prev = prev
		}
		e.sent = true // every tile is copied into prev below
	}
	flags := uint8(0)
	if full || e.restart {
		e.zbuf.Reset()
		e.zw.Reset(&e.zbuf)
		flags = FlagZstdReset
	}
	if full {
		flags |= FlagFull
	}
	u := Update{ID: e.nextID, Full: full}
	e.build.start(header{id: u.ID, flags: flags, width: uint16(f.Width), height: uint16(f.Height)})
	if err := e.tiles(&u.Stats, f, full); err != nil {
		return Update{}, err
	}
	if e.build.empty() {
		return Update{}, nil
	}
	if err := e.finishChunk(); err != nil {
		return Update{}, err
	}
	u.Chunks = e.build.done()
	for _, c := range u.Chunks {
		u.Stats.Bytes += len(c)
	}
	e.nextID++
	e.restart = false
	return u, nil
}

// tiles adds the changed tiles (every tile when full) to the update: first
// those that moved with a vertical scroll, as copy tiles, in the order that
// keeps each one's source untouched by the tiles before it (top-down when
// the content moved up), then the others in row-major order.
func (e *Encoder) tiles(st *Stats, f *screen.Frame, full bool) error {
	e.todo = e.todo[:0]
	cols, rows := grid(f.Width, f.Height)
	for row := 0; row < rows; row++ {
		for col := 0; col < cols; col++ {
			r := tileRect(col, row, f.Width, f.Height)
			if full || !sameTile(e.prev, f, r) {
				e.todo = append(e.todo, tileRef{col, row, r})
			}
		}
	}
	if !full {
		if err := e.copies(st, f); err != nil {
			return err
		}
	}
	for _, t := range e.todo {
		if t.col < 0 {
			continue // sent as a copy
		}
		if err := e.addTile(st, f, t.col, t.row, t.r); err != nil {
			return err
		}
		copyTile(e.prev, f, t.r)
	}
	return nil
}

// copies sends the changed tiles that moved with a scroll as copy tiles and
// marks them done (col −1).
func (e *Encoder) copies(st *Stats, f *screen.Frame) error {
	rects := make([]screen.Rect, len(e.todo))
	for i, t := range e.todo {
		rects[i] = t.r
	}
	dy := e.scroll.find(e.prev, f, rects)
	if dy == 0 {
		return nil
	}
	for k := range e.todo {
		i := k
		if dy < 0 { // the content moved down: bottom-up
			i = len(e.todo) - 1 - k
		}
		t := &e.todo[i]
		if !movedFrom(e.prev, f, t.r, dy) {
			continue
		}
		sy := t.r.Y + dy
		rec := []byte{uint8(t.col), uint8(t.row), byte(KindCopy), uint8(t.r.X >> 8), uint8(t.r.X), uint8(sy >> 8), uint8(sy)}
		if err := e.add(rec); err != nil {
			return err
		}
		st.Copy++
		copyTile(e.prev, f, t.r)
		t.col = -1
	}
	return nil
}

// add appends a record without zstd data, starting a new chunk if needed.
func (e *Encoder) add(rec []byte) error {
	if !e.build.fits(len(rec), 0) {
		if err := e.finishChunk(); err != nil {
			return err
		}
		e.build.next()
	}
	e.build.add(rec, 0)
	return nil
}

// addTile encodes one tile into the current chunk, starting a new chunk
// first when the tile might not fit.
func (e *Encoder) addTile(st *Stats, f *screen.Frame, col, row int, r screen.Rect) error {
	rec := []byte{uint8(col), uint8(row), 0}
	e.tile = e.tile[:0]
	kind := e.classify(f, r)
	switch kind {
	case KindSolid:
		p := f.Pix[r.Y*f.Stride+r.X*screen.BytesPerPixel:]
		rec = append(rec, p[0], p[1], p[2])
		st.Solid++
	case KindPalette:
		e.tile = e.colors.appendPalette(e.tile, f, r)
		st.Palette++
	case KindRaw:
		e.tile = appendRaw(e.tile, f, r)
		st.Raw++
	case KindJPEG:
		rec = append(rec, 0, 0)
		rec = append(rec, e.jpeg.bytes...)
		rec[3], rec[4] = uint8(len(e.jpeg.bytes)>>8), uint8(len(e.jpeg.bytes))
		st.JPEG++
	}
	rec[2] = uint8(kind)
	if !e.build.fits(len(rec), len(e.tile)) {
		if err := e.finishChunk(); err != nil {
			return err
		}
		e.build.next()
	}
	e.build.add(rec, len(e.tile))
	if len(e.tile) > 0 {
		st.ZstdIn += len(e.tile)
		if _, err := e.zw.Write(e.tile); err != nil {
			return fmt.Errorf("tilecodec: zstd: %w", err)
		}
	}
	return nil
}

// classify picks a tile's kind: one colour → solid; 2–256 colours →
// palette; more → JPEG, unless the encoder is lossless, the tile is narrower
// or shorter than 8 pixels, or the JPEG is not smaller than the raw pixels,
// which make it raw. A JPEG result is left in e.jpeg.
func (e *Encoder) classify(f *screen.Frame, r screen.Rect) Kind {
	n := e.colors.count(f, r)
	switch {
	case n == 1:
		return KindSolid
	case n <= maxPalette:
		e.colors.assign()
		return KindPalette
	case e.opts.Lossless || r.W < 8 || r.H < 8:
		return KindRaw
	}
	if err := e.jpeg.encode(f, r, e.opts.JPEGQuality); err != nil || len(e.jpeg.bytes) >= r.W*r.H*3 {
		return KindRaw
	}
	return KindJPEG
}

// finishChunk flushes the zstd stream into the current chunk.
func (e *Encoder) finishChunk() error {
	if e.build.zin > 0 {
		if err := e.zw.Flush(); err != nil {
			return fmt.Errorf("tilecodec: zstd flush: %w", err)
		}
	}
	err := e.build.finish(e.zbuf.Bytes())
	e.zbuf.Reset()
	return err
}

// sameTile reports whether rect r holds the same pixels in a and b (the X
// byte included: a capture leaves it constant).
func sameTile(a, b *screen.Frame, r screen.Rect) bool {
	lo, hi := r.X*screen.BytesPerPixel, (r.X+r.W)*screen.BytesPerPixel
	for y := r.Y; y < r.Y+r.H; y++ {
		if !bytes.Equal(a.Pix[y*a.Stride+lo:y*a.Stride+hi], b.Pix[y*b.Stride+lo:y*b.Stride+hi]) {
			return false
		}
	}
	return true
}

// copyTile copies rect r from src to dst.
func copyTile(dst, src *screen.Frame, r screen.Rect) {
	lo, hi := r.X*screen.BytesPerPixel, (r.X+r.W)*screen.BytesPerPixel
	for y := r.Y; y < r.Y+r.H; y++ {
		copy(dst.Pix[y*dst.Stride+lo:y*dst.Stride+hi], src.Pix[y*src.Stride+lo:y*src.Stride+hi])
	}
}
