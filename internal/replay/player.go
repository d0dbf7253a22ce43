package replay

import (
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/tilecodec"
	"github.com/tether-support/tether/recordings"
)

// A Player rebuilds a desktop recording's framebuffer as time moves. Going
// forward it applies the live updates in order; going back (or starting
// late) it starts a new decoder at the last keyframe or full update before
// the target. It is not safe for concurrent use.
type Player struct {
	rec    *Recording
	dec    *tilecodec.Decoder
	broken error // the decoder failed: updates wait for the next seek point
	inKey  bool  // applying a keyframe the player started from
	next   int   // the next record to apply
	pos    time.Duration
	moved  bool // AdvanceTo was called
	cursor protocol.ScreenCursor
	hasCur bool
	full   bool          // the framebuffer was replaced since Take
	dirty  []screen.Rect // tiles drawn since Take
}

// NewPlayer returns a player at time 0, before any record.
func (rec *Recording) NewPlayer() *Player { return &Player{rec: rec} }

// Close releases the decoder.
func (p *Player) Close() {
	if p.dec != nil {
		p.dec.Close()
		p.dec = nil
	}
}

// Pos returns the time the player is at.
func (p *Player) Pos() time.Duration { return p.pos }

// AdvanceTo moves the player to time t (clamped to 0…Duration): every
// record up to t is applied.
func (p *Player) AdvanceTo(t time.Duration) {
	t = min(max(t, 0), p.rec.Duration)
	if t < p.pos || !p.moved {
		p.restart(t)
		p.moved = true
	}
	for p.next < len(p.rec.Records) && p.rec.Records[p.next].Time <= t {
		p.step(p.rec.Records[p.next])
		p.next++
	}
	p.pos = t
}

// restart positions the player at the last seek point at or before t, with
// no decoder, and the cursor as it was there.
func (p *Player) restart(t time.Duration) {
	p.Close()
	p.broken, p.inKey, p.full, p.dirty, p.hasCur = nil, false, true, p.dirty[:0], false
	p.next = max(p.rec.seekBefore(t), 0)
	for i := p.next - 1; i >= 0; i-- {
		if r := p.rec.Records[i]; r.Kind == recordings.RecCursor {
			p.setCursor(r.Data)
			break
		}
	}
}

func (p *Player) step(r recordings.Record) {
	switch r.Kind {
	case recordings.RecUpdate:
		p.inKey = false
		if firstChunk(r) && chunkFlags(r.Data)&tilecodec.FlagFull != 0 {
			p.newDecoder()
		}
		p.apply(r.Data)
	case recordings.RecKeyframe:
		if firstChunk(r) {
			p.inKey = p.dec == nil || p.broken != nil
			if p.inKey {
				p.newDecoder()
			}
		}
		if p.inKey {
			p.apply(r.Data)
		}
	case recordings.RecCursor:
		p.setCursor(r.Data)
	}
}

func (p *Player) newDecoder() {
	p.Close()
	p.dec, p.broken, p.full = tilecodec.NewDecoder(tilecodec.Limits{}), nil, true
}

func (p *Player) apply(chunk []byte) {
	if p.dec == nil || p.broken != nil {
		return
	}
	res, err := p.dec.Apply(chunk)
	if err != nil {
		p.broken = err
		return
	}
	if res.Resized {
		p.full = true
	}
	p.dirty = append(p.dirty, res.Dirty...)
}

func (p *Player) setCursor(b []byte) {
	if c, err := protocol.ParseScreenCursor(b); err == nil { // records were checked on load
		p.cursor, p.hasCur = c, true
		p.cursor.Pix = nil
	}
}

// Frame returns the framebuffer (BGRX), nil before the first full update.
// It belongs to the player: read it between calls.
func (p *Player) Frame() *screen.Frame {
	if p.dec == nil {
		return nil
	}
	return p.dec.Frame()
}

// Err reports why the screen stops updating, if the recording's updates do
// not decode at the player's position.
func (p *Player) Err() error {
	if p.broken == nil {
		return nil
	}
	return fmt.Errorf("the recorded screen updates do not decode: %w", p.broken)
}

// Cursor returns the pointer position and visibility at the player's
// position; ok is false before the first cursor record.
func (p *Player) Cursor() (x, y int, visible, ok bool) {
	return p.cursor.X, p.cursor.Y, p.cursor.Flags&protocol.CursorVisible != 0, p.hasCur
}

// Take returns what changed since the last Take: full when the framebuffer
// was replaced (a seek, a new decoder or a size change; draw it all), else
// the tiles drawn. The slice is valid until the next AdvanceTo.
func (p *Player) Take() (full bool, dirty []screen.Rect) {
	full, dirty = p.full, p.dirty
	p.full, p.dirty = false, p.dirty[:0]
	return full, dirty
}

// FrameAt rebuilds the framebuffer at time t. The frame is a copy.
func (rec *Recording) FrameAt(t time.Duration) (*screen.Frame, error) {
	p := rec.NewPlayer()
	defer p.Close()
	p.AdvanceTo(t)
	if err := p.Err(); err != nil {
		return nil, err
	}
	f := p.Frame()
	if f == nil {
		return nil, fmt.Errorf("the recording shows no screen at %v", t.Round(time.Millisecond))
	}
	c := *f
	c.Pix = append([]byte(nil), f.Pix...)
	return &c, nil
}
