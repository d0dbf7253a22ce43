package tech

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/direct"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
)

// Path choices of SessionRequest.Path (tech connect|cp --path).
const (
	PathAuto   = "auto"   // try the direct path, stay on the relay if it cannot be set up
	PathRelay  = "relay"  // never try the direct path
	PathDirect = "direct" // the direct path or nothing: the session ends if it cannot be set up
)

// PathChanged reports the path the session's stream uses now and why.
type PathChanged struct {
	Path string // "direct" or "relay"
	Why  string // as the library or the device put it: sanitize before showing
}

func (PathChanged) event() {}

// ErrNoDirect wraps why --path direct could not be honoured.
var ErrNoDirect = errors.New("the direct path could not be set up")

// checkPathMode refuses an unknown --path value.
func checkPathMode(mode string) error {
	switch mode {
	case "", PathAuto, PathRelay, PathDirect:
		return nil
	}
	return fmt.Errorf("--path %q: want auto, relay or direct", mode)
}

// startDirect tries the direct path as mode says, once consent is given.
// With PathDirect a path that cannot be set up ends the session (Run then
// returns an error wrapping ErrNoDirect).
func (s *LiveSession) startDirect(mode string) error {
	if mode == "" {
		mode = PathAuto
	}
	if mode == PathRelay {
		return nil
	}
	knobs := direct.KnobsFromEnv()
	var deny string
	switch {
	case !s.ch.Features().Has(protocol.FeatureDirectPath):
		deny = "the device does not support it"
	case s.info.DirectPath == protocol.DirectPathDeny:
		deny = "the organisation's policy denies it"
	case knobs.ForceRelay:
		deny = "it is turned off here"
	}
	if deny != "" {
		if mode == PathDirect {
			return fmt.Errorf("%w: %s", ErrNoDirect, deny)
		}
		if !knobs.ForceRelay { // the test knob stays silent
			s.c.emit(PathChanged{Path: protocol.PathModeRelay, Why: deny})
		}
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	link, err := direct.NewLink(ctx, s.ch, direct.LinkConfig{Role: direct.Offerer, STUN: direct.STUNServers(s.info.STUN), Knobs: knobs,
		OnPath: func(st direct.Status) { s.c.emit(PathChanged{Path: st.Path, Why: st.Why}) }})
	if err != nil {
		cancel()
		return err
	}
	s.link, s.directStop = link, cancel
	if knobs.StartDelay > 0 {
		// A test knob: the attempt begins after the session has streamed a
		// while on the relay; a send failure then is the session's end.
		time.AfterFunc(knobs.StartDelay, func() { _ = link.Start() })
	} else if err := link.Start(); err != nil {
		return err
	}
	if mode == PathDirect {
		s.directRequired = true
		go s.requireDirect(link)
	}
	return nil
}

// requireDirect ends the session when the direct path cannot be set up.
func (s *LiveSession) requireDirect(l *direct.Link) {
	<-l.Done()
	if err := l.Err(); err != nil {
		s.mu.Lock()
		s.pathErr = fmt.Errorf("%w: %s", ErrNoDirect, sanitize.Display(err.Error(), 200))
		s.mu.Unlock()
		s.End("the direct path could not be set up")
	}
}

// WaitPath waits until the direct path attempt has an outcome (nil when
// none was made): nil once the session moved to it, else why not.
func (s *LiveSession) WaitPath(ctx context.Context) error {
	if s.link == nil {
		return nil
	}
	return s.link.Wait(ctx)
}

// Path returns the path this side sends on: "direct" or "relay".
func (s *LiveSession) Path() string { return s.ch.Path() }

// pathError is why --path direct ended the session, nil otherwise.
func (s *LiveSession) pathError() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pathErr
}

// stopDirect ends the direct path's machinery at the session's end.
func (s *LiveSession) stopDirect() {
	if s.directStop != nil {
		s.directStop()
	}
}
