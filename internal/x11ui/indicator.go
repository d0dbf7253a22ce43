package x11ui

import (
	"sync"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/screen"
)

// ClassIndicator is the indicator window's WM_CLASS instance name.
const ClassIndicator = "tether-indicator"

// Info is what the indicator shows. The names are the peer's (untrusted):
// the indicator sanitizes and cuts them.
type Info struct {
	TechName, TechUser, Org string
	// Control: the technician may control the screen (else only view).
	Control bool
	// Paused: the end user paused the sharing.
	Paused bool
}

// Event is what the end user did on the indicator.
type Event int

// Events.
const (
	// Pause: the Pause button (capture must stop).
	Pause Event = iota + 1
	// Resume: the Resume button, shown while paused.
	Resume
	// StopControl: the Stop control button, shown while controlling.
	StopControl
	// End: the End button or the global hotkey.
	End
)

// String names the event; the same name is its button's in
// _TETHER_BUTTONS.
func (e Event) String() string {
	switch e {
	case Pause:
		return "pause"
	case Resume:
		return "resume"
	case StopControl:
		return "stop-control"
	case End:
		return "end"
	}
	return "unknown"
}

// eventBuffer is how many events wait for the reader; more are dropped.
const eventBuffer = 16

// Indicator is the always-on-top bar shown while a desktop session is
// live. Create it with OpenIndicator; Close removes it.
type Indicator struct {
	s         *surface
	hk        *hotkey
	hotkeyErr error
	events    chan Event
	done      chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	info    Info
	msg     string
	buttons []button
	click   clicker
}

// OpenIndicator shows the indicator on display (named like $DISPLAY,
// authorized with the Xauthority file xauthority or the default one) and
// grabs the hotkey. It fails when the display cannot be reached; a hotkey
// that cannot be grabbed is only reported by HotkeyErr (the bar then does
// not mention it).
func OpenIndicator(display, xauthority string, info Info) (*Indicator, error) {
	s, err := openSurface(display, xauthority)
	if err != nil {
		return nil, err
	}
	ind := &Indicator{s: s, info: info, events: make(chan Event, eventBuffer), done: make(chan struct{})}
	ind.hk, ind.hotkeyErr = grabHotkey(s)
	sw, _ := s.screenSize()
	r := ind.layout(sw)
	if err := s.create(r, ClassIndicator, "Tether: your screen is shared", ind.background()); err != nil {
		s.close()
		return nil, err
	}
	shieldBar(s, true)
	ind.redraw()
	go ind.loop()
	return ind, nil
}

// HotkeyErr says why the hotkey could not be grabbed, or is nil.
func (ind *Indicator) HotkeyErr() error {
	ind.mu.Lock()
	defer ind.mu.Unlock()
	return ind.hotkeyErr
}

// Events delivers the end user's clicks and hotkey presses. It is closed
// after Close, or when the display connection is lost (the agent should
// then end the session: the end user can no longer see the bar). Events
// beyond a small buffer are dropped.
func (ind *Indicator) Events() <-chan Event { return ind.events }

// Update shows info.
func (ind *Indicator) Update(info Info) {
	ind.mu.Lock()
	ind.info = info
	ind.mu.Unlock()
	sw, _ := ind.s.screenSize()
	ind.s.move(ind.layout(sw))
	ind.redraw()
}

// ButtonRect returns where the button delivering e is on the screen (root
// coordinates), and whether it is shown now: a test hook.
func (ind *Indicator) ButtonRect(e Event) (screen.Rect, bool) {
	ind.mu.Lock()
	defer ind.mu.Unlock()
	at := ind.s.bounds()
	for _, b := range ind.buttons {
		if b.name == e.String() {
			return screen.Rect{X: at.X + b.rect.X, Y: at.Y + b.rect.Y, W: b.rect.W, H: b.rect.H}, true
		}
	}
	return screen.Rect{}, false
}

// Bounds returns the bar's rectangle on the screen.
func (ind *Indicator) Bounds() screen.Rect { return ind.s.bounds() }

// Close removes the bar, releases the hotkey and closes the connection;
// Events is closed when it returns. Safe to call more than once.
func (ind *Indicator) Close() {
	ind.closeOnce.Do(func() {
		shieldBar(ind.s, false)
		ind.mu.Lock()
		hk := ind.hk
		ind.hk = nil
		ind.mu.Unlock()
		hk.ungrab(ind.s)
		ind.s.close()
	})
	<-ind.done
}

// background returns the bar's colour for the current state.
func (ind *Indicator) background() uint32 {
	if ind.info.Paused {
		return colBarPaused
	}
	return colBar
}

// layout computes the message and buttons for a screen sw pixels wide and
// returns the bar's rectangle (root coordinates), centred at the top.
func (ind *Indicator) layout(sw int) screen.Rect {
	ind.mu.Lock()
	defer ind.mu.Unlock()
	s := ind.s
	m := barMetrics{charW: s.charW, lineH: s.lineH}
	msg, bs, w, h := layoutBar(ind.info, sw, m, ind.hk != nil, s.lo, s.hi)
	ind.msg, ind.buttons = msg, bs
	return screen.Rect{X: max((sw-w)/2, 0), Y: 0, W: w, H: h}
}

// redraw paints the whole bar and publishes its buttons.
func (ind *Indicator) redraw() {
	ind.mu.Lock()
	defer ind.mu.Unlock()
	s := ind.s
	r := s.bounds()
	bg := ind.background()
	xproto.ChangeWindowAttributes(s.conn, s.win, xproto.CwBackPixel, []uint32{s.pixel(bg)})
	s.fill(screen.Rect{W: r.W, H: r.H}, bg)
	s.text(barPad, (r.H-s.lineH)/2, ind.msg, colText, bg)
	for _, b := range ind.buttons {
		s.drawButton(b, bg)
	}
	s.publish(ind.buttons)
}

// loop handles the bar's events until the connection closes.
func (ind *Indicator) loop() {
	defer close(ind.done)
	defer close(ind.events)
	ind.s.events(ind.handle, func(w, h int) { ind.Update(ind.current()) })
}

// current returns the info shown.
func (ind *Indicator) current() Info {
	ind.mu.Lock()
	defer ind.mu.Unlock()
	return ind.info
}

// handle reacts to one event: exposure redraws, a click on a button (press
// and release on the same one) or the hotkey delivers an Event.
func (ind *Indicator) handle(ev xgb.Event) {
	switch e := ev.(type) {
	case xproto.ExposeEvent:
		if e.Count == 0 {
			ind.redraw()
		}
	case xproto.ButtonPressEvent:
		if e.Detail == 1 {
			ind.mu.Lock()
			ind.click.event(ind.buttons, true, int(e.EventX), int(e.EventY))
			ind.mu.Unlock()
		}
	case xproto.ButtonReleaseEvent:
		if e.Detail == 1 {
			ind.mu.Lock()
			name := ind.click.event(ind.buttons, false, int(e.EventX), int(e.EventY))
			ind.mu.Unlock()
			if name != "" {
				ind.send(eventNamed(name))
			}
		}
	case xproto.KeyPressEvent:
		ind.mu.Lock()
		hk := ind.hk
		ind.mu.Unlock()
		if hk.matches(e) {
			ind.send(End)
		}
	case xproto.MappingNotifyEvent:
		if e.Request == xproto.MappingKeyboard || e.Request == xproto.MappingModifier {
			ind.regrab()
		}
	}
}

// regrab grabs the hotkey again after the keyboard map changed: the key
// or the Num Lock modifier may have moved.
func (ind *Indicator) regrab() {
	ind.mu.Lock()
	old := ind.hk
	ind.mu.Unlock()
	if old != nil && !old.stale(ind.s) {
		return
	}
	ind.mu.Lock()
	ind.hk = nil
	ind.mu.Unlock()
	old.ungrab(ind.s)
	hk, err := grabHotkey(ind.s)
	ind.mu.Lock()
	ind.hk, ind.hotkeyErr = hk, err
	ind.mu.Unlock()
	ind.Update(ind.current()) // the bar mentions the hotkey only while held
}

// send delivers e unless the buffer is full.
func (ind *Indicator) send(e Event) {
	select {
	case ind.events <- e:
	default:
	}
}

// eventNamed returns the event whose button is called name.
func eventNamed(name string) Event {
	for _, e := range []Event{Pause, Resume, StopControl, End} {
		if e.String() == name {
			return e
		}
	}
	return 0
}
