// Package replay reconstructs what a session recording showed: it loads a
// decrypted recording's plaintext (asciicast, or a desktop stream,
// recordings/FORMAT.md §6) and, for a desktop recording, rebuilds the
// framebuffer at any moment with the tile decoder, seeking from the nearest
// keyframe. It serves `tech recordings play` and `export --format png`.
package replay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tether-support/tether/internal/tilecodec"
	"github.com/tether-support/tether/recordings"
)

// DefaultLimit bounds the plaintext Load keeps in memory.
const DefaultLimit = 2 << 30

// A Marker is a labelled moment of the recording (consent, grants, pause,
// end…). Label is the recording's text, unsanitized.
type Marker struct {
	Time  time.Duration
	Label string
}

// A Recording is a loaded recording.
type Recording struct {
	// Header is the asciicast header every recording starts with.
	Header *recordings.CastHeader
	// Desktop is set for a desktop stream.
	Desktop bool
	// Cast holds the asciicast events (before the desktop switch, if any).
	Cast []recordings.CastEvent
	// Records holds the desktop records (their Data is the Recording's own).
	Records []recordings.Record
	// Markers lists every marker, asciicast and record alike, in order.
	Markers []Marker
	// Duration is the time of the last event or record.
	Duration time.Duration
	// Cut is non-nil (wrapping recordings.ErrTruncated) when the recording
	// ends early: it holds what came before the cut.
	Cut error

	seeks []int // indices of Records where a player may start (seekPoint)
}

// Load reads a recording's plaintext from r (a recordings.Reader), keeping
// at most limit bytes of records (0 means DefaultLimit). A truncated
// recording loads up to its cut, with Cut set; any other failure is an
// error.
func Load(r io.Reader, limit int64) (*Recording, error) {
	if limit <= 0 {
		limit = DefaultLimit
	}
	rec := &Recording{}
	var kept int64
	h, desktop, err := recordings.ReadStream(r, recordings.StreamVisitor{
		Cast: func(e recordings.CastEvent) error {
			rec.Cast = append(rec.Cast, e)
			t := time.Duration(e.Time * float64(time.Second))
			rec.Duration = max(rec.Duration, t)
			if e.Type == "m" {
				rec.Markers = append(rec.Markers, Marker{t, e.Data})
			}
			return nil
		},
		Record: func(r recordings.Record) error {
			if kept += int64(len(r.Data)) + 32; kept > limit {
				return fmt.Errorf("the recording holds more than %d MiB: too large to play here", limit>>20)
			}
			r.Data = bytes.Clone(r.Data)
			if seekPoint(r) {
				rec.seeks = append(rec.seeks, len(rec.Records))
			}
			rec.Records = append(rec.Records, r)
			rec.Duration = max(rec.Duration, r.Time)
			if r.Kind == recordings.RecMarker {
				rec.Markers = append(rec.Markers, Marker{r.Time, string(r.Data)})
			}
			return nil
		},
	})
	if errors.Is(err, recordings.ErrTruncated) && h != nil {
		rec.Cut = err
	} else if err != nil {
		return nil, err
	}
	rec.Header, rec.Desktop = h, desktop
	return rec, nil
}

// Chunk header fields a player looks at (PROTOCOL.md §8.6): the chunk
// index (uint16 at 4) and the flags (byte 6).
func chunkIndex(c []byte) int  { return int(c[4])<<8 | int(c[5]) }
func chunkFlags(c []byte) byte { return c[6] }

// firstChunk reports whether an update or keyframe record is its update's
// first chunk.
func firstChunk(r recordings.Record) bool {
	return (r.Kind == recordings.RecUpdate || r.Kind == recordings.RecKeyframe) && chunkIndex(r.Data) == 0
}

// seekPoint reports whether a player can start at r with a new decoder:
// the first chunk of a keyframe or of a full live update.
func seekPoint(r recordings.Record) bool {
	if !firstChunk(r) {
		return false
	}
	return r.Kind == recordings.RecKeyframe || chunkFlags(r.Data)&tilecodec.FlagFull != 0
}

// seekBefore returns the index of the last seek point at or before t, or -1.
func (rec *Recording) seekBefore(t time.Duration) int {
	best := -1
	for _, i := range rec.seeks {
		if rec.Records[i].Time > t {
			break
		}
		best = i
	}
	return best
}
