package tilecodec

import (
	"encoding/binary"
	"slices"

	"github.com/tether-support/tether/internal/screen"
)

// maxPalette is the most colours a palette tile holds.
const maxPalette = 256

// colourSet counts a tile's distinct colours with a small open-addressing
// table, giving up at maxPalette+1, and then maps colours to palette indices.
// It is reused for every tile: no allocation per tile or per pixel.
type colourSet struct {
	keys   [1024]uint32 // colour | 1<<24 when used, 0 when empty
	index  [1024]uint8
	slots  []int    // used slots, for clearing
	colors []uint32 // distinct colours, sorted after count
}

// bgr reads a pixel's colour as 0xRRGGBB.
func bgr(p []byte) uint32 { return binary.LittleEndian.Uint32(p[:4]) & 0xffffff }

func (s *colourSet) slot(c uint32) int {
	key := c | 1<<24
	i := int((c * 0x9E3779B1) >> 22)
	for {
		switch s.keys[i] {
		case key:
			return i
		case 0:
			s.keys[i] = key
			s.slots = append(s.slots, i)
			s.colors = append(s.colors, c)
			return i
		}
		i = (i + 1) & (len(s.keys) - 1)
	}
}

// count returns the number of distinct colours in rect r of f, or
// maxPalette+1 when there are more.
func (s *colourSet) count(f *screen.Frame, r screen.Rect) int {
	for _, i := range s.slots {
		s.keys[i] = 0
	}
	s.slots, s.colors = s.slots[:0], s.colors[:0]
	last, prev := uint32(1<<31), uint32(1<<31) // the two latest colours: text alternates two
	for y := r.Y; y < r.Y+r.H; y++ {
		row := f.Pix[y*f.Stride+r.X*screen.BytesPerPixel : y*f.Stride+(r.X+r.W)*screen.BytesPerPixel]
		for x := 0; x < len(row); x += screen.BytesPerPixel {
			c := bgr(row[x:])
			if c == last || c == prev {
				continue
			}
			last, prev = c, last
			s.slot(c)
			if len(s.colors) > maxPalette {
				return len(s.colors)
			}
		}
	}
	return len(s.colors)
}

// assign sorts the counted colours (so that tiles with the same colours
// produce the same indices, which the zstd stream can match across tiles)
// and records each colour's index.
func (s *colourSet) assign() {
	slices.Sort(s.colors)
	for i, c := range s.colors {
		s.index[s.slot(c)] = uint8(i)
	}
}

// appendPalette appends a palette tile's data (PROTOCOL.md §8.6) for rect r.
func (s *colourSet) appendPalette(dst []byte, f *screen.Frame, r screen.Rect) []byte {
	n := len(s.colors)
	dst = append(dst, uint8(n-1))
	for _, c := range s.colors {
		dst = append(dst, uint8(c), uint8(c>>8), uint8(c>>16))
	}
	bits := paletteBits(n)
	for y := r.Y; y < r.Y+r.H; y++ {
		row := f.Pix[y*f.Stride+r.X*screen.BytesPerPixel : y*f.Stride+(r.X+r.W)*screen.BytesPerPixel]
		var acc uint8
		used := 0
		last, lastIdx := uint32(1<<31), uint8(0)
		prev, prevIdx := uint32(1<<31), uint8(0)
		for x := 0; x < len(row); x += screen.BytesPerPixel {
			c := bgr(row[x:])
			switch c {
			case last:
			case prev:
				last, lastIdx, prev, prevIdx = prev, prevIdx, last, lastIdx
			default:
				last, lastIdx, prev, prevIdx = c, s.index[s.slot(c)], last, lastIdx
			}
			acc |= lastIdx << (8 - bits - used)
			used += bits
			if used == 8 {
				dst = append(dst, acc)
				acc, used = 0, 0
			}
		}
		if used > 0 {
			dst = append(dst, acc)
		}
	}
	return dst
}

// appendRaw appends rect r of f as B, G, R per pixel.
func appendRaw(dst []byte, f *screen.Frame, r screen.Rect) []byte {
	for y := r.Y; y < r.Y+r.H; y++ {
		row := f.Pix[y*f.Stride+r.X*screen.BytesPerPixel : y*f.Stride+(r.X+r.W)*screen.BytesPerPixel]
		for x := 0; x < len(row); x += screen.BytesPerPixel {
			dst = append(dst, row[x], row[x+1], row[x+2])
		}
	}
	return dst
}
