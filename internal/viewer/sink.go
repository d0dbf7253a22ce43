package viewer

import (
	"slices"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/screen"
)

// Update hands the page an update to draw. Until the page has drawn it
// (and its Drawn is called) the update stays pending: a page attaching
// meanwhile gets the whole framebuffer. Should another update come before
// the pending one is drawn, it supersedes it: their rectangles merge and
// both Drawn functions are called once the page has drawn the newer.
func (s *Server) Update(u Update) {
	if u.Frame == nil || u.Frame.Validate() != nil {
		return
	}
	rects := make([]screen.Rect, 0, len(u.Rects))
	for _, r := range u.Rects {
		if !r.Empty() && r.Within(u.Frame.Width, u.Frame.Height) {
			rects = append(rects, r)
		}
	}
	u.Rects = rects
	s.mu.Lock()
	if old := s.pending; old != nil {
		u.Rects = append(slices.Clip(old.Rects), u.Rects...)
		od, nd := old.Drawn, u.Drawn
		u.Drawn = func() { call(od); call(nd) }
	}
	s.pending, s.sentTo = &u, nil
	s.mu.Unlock()
	s.wake()
}

func call(f func()) {
	if f != nil {
		f()
	}
}

// Cursor takes the pointer's position, with its shape when c has
// protocol.CursorShape (then c.Pix must stay unchanged: the server keeps
// it).
func (s *Server) Cursor(c protocol.ScreenCursor) {
	s.mu.Lock()
	if c.Flags&protocol.CursorShape != 0 && len(c.Pix) == c.Width*c.Height*4 {
		s.shape = c
		s.shapeVer++
	}
	s.cur = protocol.ScreenCursor{X: c.X, Y: c.Y, Flags: c.Flags &^ protocol.CursorShape}
	s.curVer++
	s.mu.Unlock()
	s.wake()
}

// State takes the stream's state: size, paused by the end user, control,
// or why the device shows no screen.
func (s *Server) State(st protocol.ScreenState) {
	s.setStatus(func(v *Status) {
		v.Width, v.Height = st.Width, st.Height
		v.Paused, v.Control, v.Why = st.Paused, st.Control, ""
		switch {
		case st.Unavailable:
			v.Notice = "the device cannot show its screen: " + st.Why
		case st.Width == 0:
			v.Notice = "the device does not show its screen now"
			if st.Why != "" {
				v.Notice += ": " + st.Why
			}
		case st.Paused:
			v.Why = st.Why
		}
	})
}

// Caps takes a change of the grants (an answer to a request, or a
// revocation) and why, in the device's words; control follows the grants.
func (s *Server) Caps(granted []string, why string) {
	s.setStatus(func(v *Status) {
		v.Caps = append([]string{}, granted...)
		v.Notice = why
		// The device acts on input from the moment it grants control, and
		// stops at a revocation: the grants say so before the next state.
		v.Control = protocol.Covers(granted, protocol.CapScreenControl)
	})
}

// Notice shows a one-line message on the page.
func (s *Server) Notice(msg string) {
	s.setStatus(func(v *Status) { v.Notice = msg })
}

// Path shows which path the session uses now and why, e.g. "direct" and
// "LAN, 0.4 ms"; the page shows "direct (LAN, 0.4 ms)".
func (s *Server) Path(path, why string) {
	line := sanitize.Display(path, 16)
	if why != "" {
		line += " (" + sanitize.Display(why, 160) + ")"
	}
	s.setStatus(func(v *Status) { v.Path = line })
}

// End says the session ended, and why; the page shows it.
func (s *Server) End(reason string) {
	s.setStatus(func(v *Status) { v.Ended, v.Reason, v.Control = true, reason, false })
}

// setStatus changes the status and tells the page.
func (s *Server) setStatus(f func(*Status)) {
	s.mu.Lock()
	f(&s.st)
	s.stVer++
	s.mu.Unlock()
	s.wake()
}

// status returns a copy of the status.
func (s *Server) status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// wake tells the attached page's writer there is something to send.
func (s *Server) wake() {
	s.mu.Lock()
	p := s.page
	s.mu.Unlock()
	if p != nil {
		p.kick()
	}
}
