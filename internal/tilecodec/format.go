package tilecodec

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
)

// TileSize is the width and height of a full tile, in pixels.
const TileSize = 64

// MaxChunk is the largest chunk payload: one InScreenUpdate message's
// payload (MaxInner 65 537 bytes minus the type byte).
const MaxChunk = protocol.MaxChunk

// HeaderSize is the size of the header every chunk starts with.
const HeaderSize = 13

// Chunk flags (PROTOCOL.md §8.6).
const (
	// FlagFinal marks the last chunk of an update.
	FlagFinal = 0x01
	// FlagFull marks an update that carries every tile of the screen.
	FlagFull = 0x02
	// FlagZstdReset starts a new zstd stream at this update's first
	// compressed byte.
	FlagZstdReset = 0x04
	flagsKnown    = FlagFinal | FlagFull | FlagZstdReset
)

// Kind is a tile's encoding.
type Kind uint8

// Tile kinds (PROTOCOL.md §8.6).
const (
	// KindSolid is one colour: 3 inline bytes B, G, R.
	KindSolid Kind = 0x01
	// KindPalette is 2–256 colours and packed indices, in the zstd stream.
	KindPalette Kind = 0x02
	// KindRaw is B, G, R per pixel, in the zstd stream.
	KindRaw Kind = 0x03
	// KindJPEG is a baseline or progressive JPEG of exactly the tile's size,
	// inline after a uint16 length.
	KindJPEG Kind = 0x04
	// KindCopy copies a tile-sized rectangle of the framebuffer as it was
	// when the update began: inline source x, y (uint16 each).
	KindCopy Kind = 0x05
)

// String names the kind for stats and errors.
func (k Kind) String() string {
	switch k {
	case KindSolid:
		return "solid"
	case KindPalette:
		return "palette"
	case KindRaw:
		return "raw"
	case KindJPEG:
		return "jpeg"
	case KindCopy:
		return "copy"
	}
	return fmt.Sprintf("kind 0x%02x", uint8(k))
}

// header is the fixed start of every chunk.
type header struct {
	id            uint32
	index         uint16
	flags         uint8
	width, height uint16
	tiles         uint16
}

func (h header) put(b []byte) {
	binary.BigEndian.PutUint32(b[0:], h.id)
	binary.BigEndian.PutUint16(b[4:], h.index)
	b[6] = h.flags
	binary.BigEndian.PutUint16(b[7:], h.width)
	binary.BigEndian.PutUint16(b[9:], h.height)
	binary.BigEndian.PutUint16(b[11:], h.tiles)
}

func parseHeader(b []byte) (header, error) {
	if len(b) < HeaderSize {
		return header{}, fmt.Errorf("tilecodec: chunk of %d bytes is shorter than its %d-byte header", len(b), HeaderSize)
	}
	h := header{
		id:     binary.BigEndian.Uint32(b[0:]),
		index:  binary.BigEndian.Uint16(b[4:]),
		flags:  b[6],
		width:  binary.BigEndian.Uint16(b[7:]),
		height: binary.BigEndian.Uint16(b[9:]),
		tiles:  binary.BigEndian.Uint16(b[11:]),
	}
	if h.flags&^flagsKnown != 0 {
		return header{}, fmt.Errorf("tilecodec: unknown chunk flags 0x%02x", h.flags)
	}
	if h.index != 0 && h.flags&(FlagFull|FlagZstdReset) != 0 {
		return header{}, errors.New("tilecodec: full or zstd-reset flag on a chunk other than the first")
	}
	if err := screen.CheckSize(int(h.width), int(h.height)); err != nil {
		return header{}, fmt.Errorf("tilecodec: %w", err)
	}
	return h, nil
}

// grid returns the number of tile columns and rows of a w×h screen.
func grid(w, h int) (cols, rows int) {
	return (w + TileSize - 1) / TileSize, (h + TileSize - 1) / TileSize
}

// tileRect returns the rectangle of tile (col, row) on a w×h screen.
func tileRect(col, row, w, h int) screen.Rect {
	x, y := col*TileSize, row*TileSize
	return screen.Rect{X: x, Y: y, W: min(TileSize, w-x), H: min(TileSize, h-y)}
}

// paletteBits returns the index width for an n-colour palette.
func paletteBits(n int) int {
	switch {
	case n <= 2:
		return 1
	case n <= 4:
		return 2
	case n <= 16:
		return 4
	}
	return 8
}

// paletteSize is the decompressed size of a palette tile's data.
func paletteSize(n, w, h int) int {
	return 1 + 3*n + h*((w*paletteBits(n)+7)/8)
}
