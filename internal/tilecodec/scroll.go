package tilecodec

import (
	"bytes"
	"cmp"
	"hash/maphash"
	"slices"

	"github.com/tether-support/tether/internal/screen"
)

// minScrollTiles is how many changed tiles an update needs before the
// encoder looks for a vertical scroll: a few changed tiles are typing.
const minScrollTiles = 6

// scrollFinder finds the vertical distance most changed tiles moved by
// since the last sent frame, to send them as copy tiles. It keeps its
// buffers between updates.
type scrollFinder struct {
	seed  maphash.Seed
	rows  []rowHash // prev's rows in one tile column, sorted by hash
	votes map[int]int
	byCol []screen.Rect
}

// rowHash is the hash of one row of a tile column.
type rowHash struct {
	h uint64
	y int32
}

func newScrollFinder() scrollFinder {
	return scrollFinder{seed: maphash.MakeSeed(), votes: map[int]int{}}
}

// find returns dy ≠ 0 such that many changed tiles hold prev's pixels from
// dy rows further down (dy > 0: the content moved up), or 0.
func (s *scrollFinder) find(prev, f *screen.Frame, changed []screen.Rect) int {
	if len(changed) < minScrollTiles {
		return 0
	}
	clear(s.votes)
	s.byCol = append(s.byCol[:0], changed...)
	slices.SortFunc(s.byCol, func(a, b screen.Rect) int { return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.Y, b.Y)) })
	col := -1
	for _, r := range s.byCol {
		if r.X != col {
			col = r.X
			s.index(prev, r)
		}
		s.vote(f, r)
	}
	best, n := 0, 0
	for dy, v := range s.votes {
		if v > n || (v == n && abs(dy) < abs(best)) {
			best, n = dy, v
		}
	}
	if n < minScrollTiles/2 {
		return 0
	}
	return best
}

// index hashes every row of prev in the tile column of r.
func (s *scrollFinder) index(prev *screen.Frame, r screen.Rect) {
	s.rows = s.rows[:0]
	for y := 0; y < prev.Height; y++ {
		s.rows = append(s.rows, rowHash{maphash.Bytes(s.seed, rowSpan(prev, r.X, r.W, y)), int32(y)})
	}
	slices.SortFunc(s.rows, func(a, b rowHash) int { return cmp.Compare(a.h, b.h) })
}

// lookup returns the rows of prev's indexed column with hash h.
func (s *scrollFinder) lookup(h uint64) []rowHash {
	i, _ := slices.BinarySearchFunc(s.rows, h, func(e rowHash, h uint64) int { return cmp.Compare(e.h, h) })
	j := i
	for j < len(s.rows) && s.rows[j].h == h {
		j++
	}
	return s.rows[i:j]
}

// vote adds the moves that explain one distinctive row of tile r.
func (s *scrollFinder) vote(f *screen.Frame, r screen.Rect) {
	for y := r.Y + r.H/2; y < r.Y+r.H; y++ {
		row := rowSpan(f, r.X, r.W, y)
		if uniform(row) {
			continue
		}
		ys := s.lookup(maphash.Bytes(s.seed, row))
		if len(ys) == 0 || len(ys) > 4 {
			return // new content, or a row too common to tell
		}
		for _, py := range ys {
			if dy := int(py.y) - y; dy != 0 {
				s.votes[dy]++
			}
		}
		return
	}
}

// rowSpan is row y of f between x and x+w.
func rowSpan(f *screen.Frame, x, w, y int) []byte {
	return f.Pix[y*f.Stride+x*screen.BytesPerPixel : y*f.Stride+(x+w)*screen.BytesPerPixel]
}

func uniform(row []byte) bool {
	return len(row) < 8 || bytes.Equal(row[4:], row[:len(row)-4])
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// movedFrom reports whether tile r of f equals the rect dy rows further
// down in prev, inside the screen.
func movedFrom(prev, f *screen.Frame, r screen.Rect, dy int) bool {
	if r.Y+dy < 0 || r.Y+dy+r.H > prev.Height {
		return false
	}
	for y := r.Y; y < r.Y+r.H; y++ {
		if !bytes.Equal(rowSpan(f, r.X, r.W, y), rowSpan(prev, r.X, r.W, y+dy)) {
			return false
		}
	}
	return true
}
