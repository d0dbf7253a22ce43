package viewer

import (
	"sort"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/ratelimit"
)

// maxHeldKeys bounds the keys a page may hold down at once.
const maxHeldKeys = 16

// inputState is one page's input: what it holds pressed (so that a key is
// released with the keysym it was pressed with, and everything is released
// when the page loses focus or leaves) and its rate limit.
type inputState struct {
	bucket      ratelimit.Bucket
	keys        map[string]uint32 // held: code (or key) → keysym sent
	buttons     uint8             // held buttons, protocol bits
	x, y        int               // the last pointer position sent
	lastRefresh time.Time
	lastControl time.Time
	noted       bool // the technician was told about a refused event
}

func (in *inputState) init(o Options) {
	in.bucket = ratelimit.NewBucket(float64(o.InputRate), o.InputBurst)
	in.keys = map[string]uint32{}
}

// due reports whether at least every has passed since *last, and if so
// makes now the last time.
func (in *inputState) due(last *time.Time, every time.Duration) bool {
	now := time.Now()
	if !last.IsZero() && now.Sub(*last) < every {
		return false
	}
	*last = now
	return true
}

// handle validates a key, pointer or wheel event and sends it, if the page
// may send input now (a stream, control granted, session not ended) and,
// for motion and wheel, the rate limit allows.
func (in *inputState) handle(s *Server, m pageMsg) {
	st := s.status()
	if s.opts.Stream == nil || !st.Control || st.Ended {
		return
	}
	// Motion and wheel are rate-limited here, below the stream's own limit;
	// a key or a button change always goes on (to the stream's limit), so
	// that a flood of motion never costs a release.
	limited := m.T == pageWheel || m.T == pagePointer && domButtons(m.B) == in.buttons
	if limited && !in.bucket.Take(time.Now()) {
		return
	}
	switch m.T {
	case pageKey:
		in.key(s, m)
	case pagePointer:
		if m.X >= st.Width || m.Y >= st.Height {
			return
		}
		b := domButtons(m.B)
		if in.send(s, protocol.ScreenInput{Kind: protocol.InputPointer, X: m.X, Y: m.Y, Buttons: b}) {
			in.x, in.y, in.buttons = m.X, m.Y, b
		}
	case pageWheel:
		if m.DX != 0 || m.DY != 0 {
			in.send(s, protocol.ScreenInput{Kind: protocol.InputWheel, DX: m.DX, DY: m.DY})
		}
	}
}

// key presses or releases a key. A release uses the keysym of the press
// (Shift may have changed KeyboardEvent.key meanwhile); a release of a key
// not held is dropped.
func (in *inputState) key(s *Server, m pageMsg) {
	id := m.Code
	if id == "" {
		id = "key:" + m.Key
	}
	ks, held := in.keys[id]
	if !m.Down {
		if held {
			delete(in.keys, id)
			in.send(s, protocol.ScreenInput{Kind: protocol.InputKey, Keysym: ks})
		}
		return
	}
	if !held {
		var ok bool
		if ks, ok = Keysym(m.Key, m.Code); !ok || len(in.keys) >= maxHeldKeys {
			return
		}
	}
	if in.send(s, protocol.ScreenInput{Kind: protocol.InputKey, Keysym: ks, Down: true}) {
		in.keys[id] = ks
	}
}

// releaseAll releases every key and button the page holds, while control
// is granted (without it the device has released them itself).
func (in *inputState) releaseAll(s *Server) {
	st := s.status()
	if s.opts.Stream == nil || !st.Control || st.Ended {
		clear(in.keys)
		in.buttons = 0
		return
	}
	ids := make([]string, 0, len(in.keys))
	for id := range in.keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		in.send(s, protocol.ScreenInput{Kind: protocol.InputKey, Keysym: in.keys[id]})
		delete(in.keys, id)
	}
	if in.buttons != 0 {
		in.send(s, protocol.ScreenInput{Kind: protocol.InputPointer, X: in.x, Y: in.y})
		in.buttons = 0
	}
}

// send passes one event to the stream; a refusal is noted once.
func (in *inputState) send(s *Server, ev protocol.ScreenInput) bool {
	err := s.opts.Stream.Input(ev)
	if err != nil && !in.noted {
		in.noted = true
		s.opts.Notef("input not sent: %v", err)
	}
	return err == nil
}
