package x11ui

import "github.com/tether-support/tether/internal/screen"

// Indicator geometry, in pixels.
const (
	barPad    = 8 // around the bar's contents
	btnPadX   = 10
	btnPadY   = 3
	btnGap    = 6
	msgGap    = 14 // between the message and the buttons
	maxPeerIn = 80 // runes of a peer's name kept before fitting
)

// barButton is one of the indicator's buttons.
type barButton struct {
	e     Event
	label string
}

// barMetrics are the font's cell sizes.
type barMetrics struct{ charW, lineH int }

// layoutBar returns the indicator's message, its buttons (window
// coordinates) and the bar's size, no wider than a screen sw pixels wide:
// the technician's name is cut first.
func layoutBar(info Info, sw int, m barMetrics, hotkey bool, lo, hi int) (string, []button, int, int) {
	labels := []barButton{{Pause, "Pause"}}
	if info.Paused {
		labels[0] = barButton{Resume, "Resume"}
	}
	if info.Control {
		labels = append(labels, barButton{StopControl, "Stop control"})
	}
	labels = append(labels, barButton{End, "End"})

	btnH := m.lineH + 2*btnPadY
	h := btnH + 2*4
	btnsW := 0
	for i, l := range labels {
		if i > 0 {
			btnsW += btnGap
		}
		btnsW += len(l.label)*m.charW + 2*btnPadX
	}
	cells := (sw - 2*barPad - msgGap - btnsW) / m.charW
	msg := barMessage(info, cells, hotkey, lo, hi)
	w := 2*barPad + len(msg)*m.charW + msgGap + btnsW
	x := barPad + len(msg)*m.charW + msgGap
	bs := make([]button, 0, len(labels))
	for _, l := range labels {
		bw := len(l.label)*m.charW + 2*btnPadX
		bs = append(bs, button{name: l.e.String(), label: l.label, enabled: true,
			rect: screen.Rect{X: x, Y: (h - btnH) / 2, W: bw, H: btnH}})
		x += bw + btnGap
	}
	return msg, bs, w, h
}

// barMessage is the indicator's text in at most cells cells: who, what
// they do, and the hotkey when there is room.
func barMessage(info Info, cells int, hotkey bool, lo, hi int) string {
	verb := " is viewing your screen"
	if info.Control {
		verb = " is controlling your screen"
	}
	if info.Paused {
		verb = ": sharing paused"
	}
	const prefix = "Tether: "
	hint := ""
	if hotkey {
		hint = "  (" + Hotkey + " ends)"
	}
	name := clean(info.TechName, maxPeerIn, lo, hi)
	user := clean(info.TechUser, maxPeerIn, lo, hi)
	org := clean(info.Org, maxPeerIn, lo, hi)
	room := cells - len(prefix) - len(verb)
	if room-len(hint) < 12 {
		hint = ""
	}
	room -= len(hint)
	if room < 1 {
		return cut(prefix+who(name, user, org, 12)+verb, max(cells, 0))
	}
	return prefix + who(name, user, org, room) + verb + hint
}
