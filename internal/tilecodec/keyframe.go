package tilecodec

import (
	"fmt"

	"github.com/tether-support/tether/internal/screen"
)

// RestartStream makes the next update the Encoder returns start a new zstd
// stream (FlagZstdReset), full or not, so that a decoder that joins at a
// keyframe (see Keyframe) can decode it without the stream's history. An
// update without changed tiles does not consume it.
func (e *Encoder) RestartStream() { e.restart = true }

// LastSent returns the frame the decoder holds after the last update the
// Encoder returned, nil before the first one and after Reset. It is the
// Encoder's own: read it only until the next Encode.
func (e *Encoder) LastSent() *screen.Frame {
	if !e.sent {
		return nil
	}
	return e.prev
}

// LastID returns the ID of the last update the Encoder returned (0 before
// the first one).
func (e *Encoder) LastID() uint32 { return e.nextID - 1 }

// Keyframe encodes f as one full, self-contained update with the given ID:
// every tile, a zstd stream of its own. A recording stores one every few
// seconds beside the live updates, with the ID of the live update whose
// frame it shows and the live encoder's RestartStream called right after,
// so a player can start at any keyframe: the live update that follows it
// has the next ID and a fresh zstd stream.
func Keyframe(f *screen.Frame, id uint32, opts Options) (Update, error) {
	e := NewEncoder(opts)
	defer e.Close()
	e.nextID = id
	u, err := e.Encode(f, true)
	if err != nil {
		return Update{}, fmt.Errorf("tilecodec: keyframe: %w", err)
	}
	return u, nil
}
