package tilecodec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"github.com/tether-support/tether/internal/screen"
)

// DefaultMaxWindow is the largest zstd window a Decoder accepts by default.
const DefaultMaxWindow = 8 << 20

// Limits bound what a Decoder accepts from its (possibly hostile) peer.
type Limits struct {
	// MaxWidth and MaxHeight bound the screen size; 0 or more than
	// screen.MaxDimension means screen.MaxDimension.
	MaxWidth, MaxHeight int
	// MaxWindow bounds the zstd window (and so the decoder's history
	// memory); 0 means DefaultMaxWindow.
	MaxWindow int
}

// Result says what one applied chunk did.
type Result struct {
	// ID is the update the chunk belongs to.
	ID uint32
	// Complete is set when the chunk was its update's last (final) one.
	Complete bool
	// Full is set for a full update; Resized when it changed the size.
	Full, Resized bool
	// Dirty lists the tiles the chunk drew.
	Dirty []screen.Rect
}

// Decoder applies update chunks to a framebuffer. Its first error is final:
// every later Apply returns it. It is not safe for concurrent use.
type Decoder struct {
	lim  Limits
	fb   *screen.Frame
	zd   *zstd.Decoder
	seg  segment
	err  error
	zbuf []byte
	cbuf []byte // a copy tile's source pixels

	zlive, zpending bool // a zstd stream is open; a new one starts at the next compressed byte
	inUpdate        bool
	cur             header // the current update's first header, index = next expected
	lastID          uint32
	haveLast        bool
	seen            []bool // tiles drawn in the current update
	covered         int
}

// segment is the reader the zstd decoder reads a chunk's compressed bytes
// from; it never reads ahead of what it needs.
type segment struct{ b []byte }

func (s *segment) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.b)
	s.b = s.b[n:]
	return n, nil
}

// NewDecoder returns a Decoder that expects a full update first.
func NewDecoder(lim Limits) *Decoder {
	if lim.MaxWidth <= 0 || lim.MaxWidth > screen.MaxDimension {
		lim.MaxWidth = screen.MaxDimension
	}
	if lim.MaxHeight <= 0 || lim.MaxHeight > screen.MaxDimension {
		lim.MaxHeight = screen.MaxDimension
	}
	if lim.MaxWindow <= 0 {
		lim.MaxWindow = DefaultMaxWindow
	}
	return &Decoder{lim: lim}
}

// Frame returns the framebuffer (BGRX), nil before the first full update. It
// is the Decoder's own: read it between calls to Apply.
func (d *Decoder) Frame() *screen.Frame { return d.fb }

// Close releases the zstd decoder.
func (d *Decoder) Close() {
	if d.zd != nil {
		d.zd.Close()
		d.zd = nil
	}
	if d.err == nil {
		d.err = errors.New("tilecodec: decoder closed")
	}
}

// Apply decodes one chunk into the framebuffer.
func (d *Decoder) Apply(chunk []byte) (Result, error) {
	if d.err != nil {
		return Result{}, d.err
	}
	res, err := d.apply(chunk)
	if err != nil {
		d.err = err
		return Result{}, err
	}
	return res, nil
}

func (d *Decoder) apply(chunk []byte) (Result, error) {
	if len(chunk) > MaxChunk {
		return Result{}, fmt.Errorf("tilecodec: chunk of %d bytes exceeds %d", len(chunk), MaxChunk)
	}
	h, err := parseHeader(chunk)
	if err != nil {
		return Result{}, err
	}
	res := Result{ID: h.id, Full: h.flags&FlagFull != 0}
	if err := d.begin(h, &res); err != nil {
		return Result{}, err
	}
	if err := d.tiles(h, chunk[HeaderSize:], &res); err != nil {
		return Result{}, err
	}
	d.cur.index++
	if h.flags&FlagFinal != 0 {
		if d.cur.flags&FlagFull != 0 && d.covered != len(d.seen) {
			return Result{}, fmt.Errorf("tilecodec: full update %d carries %d of %d tiles", h.id, d.covered, len(d.seen))
		}
		d.inUpdate, d.lastID, d.haveLast = false, h.id, true
		res.Complete = true
	}
	return res, nil
}

// begin checks a chunk's header against the update in progress, or starts
// a new update (resizing the framebuffer for a full one).
func (d *Decoder) begin(h header, res *Result) error {
	if d.inUpdate {
		if h.id != d.cur.id || h.index != d.cur.index {
			return fmt.Errorf("tilecodec: chunk %d of update %d, expected chunk %d of update %d", h.index, h.id, d.cur.index, d.cur.id)
		}
		if h.width != d.cur.width || h.height != d.cur.height {
			return fmt.Errorf("tilecodec: screen size changed within update %d", h.id)
		}
		return nil
	}
	if h.index != 0 {
		return fmt.Errorf("tilecodec: update %d starts with chunk %d", h.id, h.index)
	}
	if d.haveLast && h.id != d.lastID+1 {
		return fmt.Errorf("tilecodec: update %d follows update %d", h.id, d.lastID)
	}
	full := h.flags&FlagFull != 0
	w, ht := int(h.width), int(h.height)
	if w > d.lim.MaxWidth || ht > d.lim.MaxHeight {
		return fmt.Errorf("tilecodec: screen %dx%d exceeds the limit %dx%d", w, ht, d.lim.MaxWidth, d.lim.MaxHeight)
	}
	if !full && d.fb == nil {
		return errors.New("tilecodec: the first update is not a full one")
	}
	if !full && (w != d.fb.Width || ht != d.fb.Height) {
		return fmt.Errorf("tilecodec: size change to %dx%d in an update that is not full", w, ht)
	}
	if full && (d.fb == nil || w != d.fb.Width || ht != d.fb.Height) {
		fb, err := screen.NewFrame(w, ht)
		if err != nil {
			return fmt.Errorf("tilecodec: %w", err)
		}
		d.fb, res.Resized = fb, true
	}
	if h.flags&FlagZstdReset != 0 {
		d.zlive, d.zpending = false, true
	}
	cols, rows := grid(w, ht)
	if cap(d.seen) < cols*rows {
		d.seen = make([]bool, cols*rows)
	}
	d.seen = d.seen[:cols*rows]
	clear(d.seen)
	d.covered, d.cur, d.inUpdate = 0, h, true
	return nil
}

// tiles parses a chunk's tile records, draws the inline tiles and then the
// compressed ones from the chunk's zstd data.
func (d *Decoder) tiles(h header, b []byte, res *Result) error {
	cols, rows := grid(int(h.width), int(h.height))
	var packed []pending
	for i := 0; i < int(h.tiles); i++ {
		if len(b) < 3 {
			return fmt.Errorf("tilecodec: tile record %d of %d is cut short", i, h.tiles)
		}
		col, row, kind := int(b[0]), int(b[1]), Kind(b[2])
		b = b[3:]
		if col >= cols || row >= rows {
			return fmt.Errorf("tilecodec: tile %d,%d outside the %dx%d screen", col, row, h.width, h.height)
		}
		if d.seen[row*cols+col] {
			return fmt.Errorf("tilecodec: tile %d,%d twice in update %d", col, row, h.id)
		}
		r := tileRect(col, row, int(h.width), int(h.height))
		res.Dirty = append(res.Dirty, r)
		var err error
		switch kind {
		case KindCopy:
			b, err = d.copyTile(r, b)
		case KindSolid:
			if len(b) < 3 {
				return fmt.Errorf("tilecodec: solid tile %d,%d is cut short", col, row)
			}
			fill(d.fb, r, b[0], b[1], b[2])
			b = b[3:]
		case KindJPEG:
			b, err = d.jpegTile(r, b)
		case KindPalette, KindRaw:
			packed = append(packed, pending{r, kind})
		default:
			err = fmt.Errorf("tilecodec: tile %d,%d has unknown kind 0x%02x", col, row, uint8(kind))
		}
		if err != nil {
			return err
		}
		d.seen[row*cols+col] = true
		d.covered++
	}
	return d.compressed(packed, b)
}

// pending is a tile whose data is in the zstd stream.
type pending struct {
	r    screen.Rect
	kind Kind
}

func (d *Decoder) jpegTile(r screen.Rect, b []byte) ([]byte, error) {
	if len(b) < 2 {
		return nil, fmt.Errorf("tilecodec: jpeg tile at %d,%d is cut short", r.X, r.Y)
	}
	n := int(binary.BigEndian.Uint16(b))
	if n == 0 || len(b)-2 < n {
		return nil, fmt.Errorf("tilecodec: jpeg tile at %d,%d: length %d with %d bytes left", r.X, r.Y, n, len(b)-2)
	}
	return b[2+n:], decodeJPEG(d.fb, r, b[2:2+n])
}

// compressed decodes the chunk's compressed tiles from z, which must be
// consumed exactly.
func (d *Decoder) compressed(tiles []pending, z []byte) error {
	if len(tiles) == 0 {
		if len(z) > 0 {
			return fmt.Errorf("tilecodec: %d bytes after the last tile", len(z))
		}
		return nil
	}
	if err := d.openStream(); err != nil {
		return err
	}
	d.seg.b = z
	for _, t := range tiles {
		var err error
		if t.kind == KindRaw {
			err = d.rawTile(t.r)
		} else {
			err = d.paletteTile(t.r)
		}
		if err != nil {
			return err
		}
	}
	if len(d.seg.b) > 0 {
		return fmt.Errorf("tilecodec: %d compressed bytes left after the last tile", len(d.seg.b))
	}
	return nil
}

func (d *Decoder) openStream() error {
	if d.zpending {
		if d.zd == nil {
			zd, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderMaxWindow(uint64(d.lim.MaxWindow)), zstd.WithDecoderMaxMemory(uint64(d.lim.MaxWindow)))
			if err != nil {
				return fmt.Errorf("tilecodec: zstd: %w", err)
			}
			d.zd = zd
		}
		if err := d.zd.Reset(&d.seg); err != nil {
			return fmt.Errorf("tilecodec: zstd: %w", err)
		}
		d.zlive, d.zpending = true, false
	}
	if !d.zlive {
		return errors.New("tilecodec: compressed tile without a zstd stream (no reset since the decoder started)")
	}
	return nil
}

// read reads exactly n decompressed bytes.
func (d *Decoder) read(n int, what string, r screen.Rect) ([]byte, error) {
	if cap(d.zbuf) < n {
		d.zbuf = make([]byte, n, max(n, TileSize*TileSize*3))
	}
	buf := d.zbuf[:n]
	if _, err := io.ReadFull(d.zd, buf); err != nil {
		return nil, fmt.Errorf("tilecodec: %s tile at %d,%d: zstd: %w", what, r.X, r.Y, err)
	}
	return buf, nil
}

func (d *Decoder) rawTile(r screen.Rect) error {
	p, err := d.read(r.W*r.H*3, "raw", r)
	if err != nil {
		return err
	}
	for y := 0; y < r.H; y++ {
		dst := d.fb.Pix[(r.Y+y)*d.fb.Stride+r.X*screen.BytesPerPixel:]
		src := p[y*r.W*3:]
		for x := 0; x < r.W; x++ {
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = src[3*x], src[3*x+1], src[3*x+2], 0
		}
	}
	return nil
}

func (d *Decoder) paletteTile(r screen.Rect) error {
	nb, err := d.read(1, "palette", r)
	if err != nil {
		return err
	}
	n := int(nb[0]) + 1
	if n < 2 {
		return fmt.Errorf("tilecodec: palette tile at %d,%d has %d colour", r.X, r.Y, n)
	}
	p, err := d.read(paletteSize(n, r.W, r.H)-1, "palette", r)
	if err != nil {
		return err
	}
	var pal [maxPalette][3]byte
	for i := 0; i < n; i++ {
		pal[i] = [3]byte{p[3*i], p[3*i+1], p[3*i+2]}
	}
	idx, bits := p[3*n:], paletteBits(n)
	rowBytes := (r.W*bits + 7) / 8
	mask := uint8(1<<bits - 1)
	for y := 0; y < r.H; y++ {
		dst := d.fb.Pix[(r.Y+y)*d.fb.Stride+r.X*screen.BytesPerPixel:]
		src := idx[y*rowBytes:]
		for x := 0; x < r.W; x++ {
			bit := x * bits
			i := int(src[bit/8]>>(8-bits-bit%8)) & int(mask)
			if i >= n {
				return fmt.Errorf("tilecodec: palette tile at %d,%d: index %d of %d colours", r.X, r.Y, i, n)
			}
			c := pal[i]
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = c[0], c[1], c[2], 0
		}
	}
	return nil
}

// copyTile draws a copy tile into r: its source must lie on the screen and
// overlap no tile drawn earlier in this update, so it reads the framebuffer
// as it was when the update began.
func (d *Decoder) copyTile(r screen.Rect, b []byte) ([]byte, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("tilecodec: copy tile at %d,%d is cut short", r.X, r.Y)
	}
	if d.cur.flags&FlagFull != 0 {
		return nil, fmt.Errorf("tilecodec: copy tile at %d,%d in a full update", r.X, r.Y)
	}
	src := screen.Rect{X: int(binary.BigEndian.Uint16(b)), Y: int(binary.BigEndian.Uint16(b[2:])), W: r.W, H: r.H}
	if !src.Within(d.fb.Width, d.fb.Height) {
		return nil, fmt.Errorf("tilecodec: copy tile at %d,%d: source %d,%d outside the screen", r.X, r.Y, src.X, src.Y)
	}
	cols, _ := grid(d.fb.Width, d.fb.Height)
	for row := src.Y / TileSize; row <= (src.Y+src.H-1)/TileSize; row++ {
		for col := src.X / TileSize; col <= (src.X+src.W-1)/TileSize; col++ {
			if d.seen[row*cols+col] {
				return nil, fmt.Errorf("tilecodec: copy tile at %d,%d: source %d,%d overlaps a tile drawn earlier in this update", r.X, r.Y, src.X, src.Y)
			}
		}
	}
	n := r.W * screen.BytesPerPixel
	if cap(d.cbuf) < TileSize*TileSize*screen.BytesPerPixel {
		d.cbuf = make([]byte, TileSize*TileSize*screen.BytesPerPixel)
	}
	for y := 0; y < r.H; y++ {
		copy(d.cbuf[y*n:(y+1)*n], rowSpan(d.fb, src.X, src.W, src.Y+y))
	}
	for y := 0; y < r.H; y++ {
		copy(rowSpan(d.fb, r.X, r.W, r.Y+y), d.cbuf[y*n:(y+1)*n])
	}
	return b[4:], nil
}

// fill paints rect r of f one colour.
func fill(f *screen.Frame, r screen.Rect, b, g, rd byte) {
	for y := r.Y; y < r.Y+r.H; y++ {
		row := f.Pix[y*f.Stride+r.X*screen.BytesPerPixel : y*f.Stride+(r.X+r.W)*screen.BytesPerPixel]
		for x := 0; x < len(row); x += 4 {
			row[x], row[x+1], row[x+2], row[x+3] = b, g, rd, 0
		}
	}
}
