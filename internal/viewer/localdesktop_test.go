package viewer_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/tilecodec"
	"github.com/tether-support/tether/internal/viewer"
	"github.com/tether-support/tether/internal/x11"
	"github.com/tether-support/tether/internal/x11/x11test"
)

// localDesktop is a desktop stream from a real X server, captured, encoded
// and decoded in this process (x11 → tilecodec.Encoder → tilecodec.Decoder
// → viewer.Server), with input injected through XTEST: the tech library's
// stream without a relay and an agent in between.
type localDesktop struct {
	t    *testing.T
	v    *viewer.Server
	src  screen.Source
	inj  screen.Injector
	kick chan struct{}

	mu      sync.Mutex
	w, h    int
	control bool
	full    bool
}

// pacing is how often the capture loop looks even without a change.
const pacing = 100 * time.Millisecond

func newLocalDesktop(t *testing.T, x *x11test.Xvfb) *localDesktop {
	d, err := x11.Open(x.Display, x.XAuthority)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	src, err := d.Source(x11.SourceOptions{CursorPoll: -1})
	if err != nil {
		t.Fatal(err)
	}
	inj, err := d.Injector()
	if err != nil {
		t.Fatal(err)
	}
	w, h := src.Size()
	return &localDesktop{t: t, src: src, inj: inj, kick: make(chan struct{}, 1), w: w, h: h, full: true}
}

// Input injects ev while control is granted.
func (l *localDesktop) Input(ev protocol.ScreenInput) error {
	l.mu.Lock()
	ok := l.control
	l.mu.Unlock()
	if !ok {
		return errors.New("no control")
	}
	ctx := context.Background()
	switch ev.Kind {
	case protocol.InputKey:
		return l.inj.Key(ctx, ev.Keysym, ev.Down)
	case protocol.InputPointer:
		return l.inj.Pointer(ctx, ev.X, ev.Y, ev.Buttons)
	case protocol.InputWheel:
		return l.inj.Wheel(ctx, ev.DX, ev.DY)
	}
	return errors.New("unknown input")
}

// Refresh makes the next update full.
func (l *localDesktop) Refresh() error {
	l.mu.Lock()
	l.full = true
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	return nil
}

// RequestControl grants control at once, as an end user saying yes.
func (l *localDesktop) RequestControl(context.Context) error {
	l.mu.Lock()
	l.control = true
	w, h := l.w, l.h
	l.mu.Unlock()
	l.v.Caps([]string{protocol.CapScreenControl}, "granted by the end user")
	l.v.State(protocol.ScreenState{Width: w, Height: h, Control: true})
	return nil
}

// run captures, encodes, decodes and hands updates to the viewer, waiting
// for each to be drawn, until ctx ends.
func (l *localDesktop) run(ctx context.Context) {
	enc := tilecodec.NewEncoder(tilecodec.Options{})
	defer enc.Close()
	dec := tilecodec.NewDecoder(tilecodec.Limits{})
	defer dec.Close()
	var f *screen.Frame
	tick := time.NewTicker(pacing)
	defer tick.Stop()
	for {
		var err error
		if f, err = l.src.Capture(f); err != nil {
			l.t.Errorf("capture: %v", err)
			return
		}
		l.mu.Lock()
		full := l.full
		l.full = false
		l.mu.Unlock()
		u, err := enc.Encode(f, full)
		if err != nil {
			l.t.Errorf("encode: %v", err)
			return
		}
		var rects []screen.Rect
		for _, c := range u.Chunks {
			res, err := dec.Apply(c)
			if err != nil {
				l.t.Errorf("decode: %v", err)
				return
			}
			rects = append(rects, res.Dirty...)
			if res.Complete {
				drawn := make(chan struct{})
				l.v.Update(viewer.Update{ID: res.ID, Frame: dec.Frame(), Rects: rects, Drawn: func() { close(drawn) }})
				select {
				case <-drawn:
				case <-ctx.Done():
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-l.src.Changes():
		case <-l.kick:
		case <-tick.C:
		}
	}
}
