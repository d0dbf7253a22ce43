package x11ui

import (
	"strconv"
	"strings"

	"github.com/tether-support/tether/internal/consent"
	"github.com/tether-support/tether/internal/screen"
)

// Consent window geometry.
const (
	winPad    = 14 // around the contents
	minCols   = 50 // the narrowest text column, in cells
	maxCols   = 96 // the widest
	checkCols = 3  // cells the checkbox takes before a capability's text
	btnWideX  = 22 // horizontal padding of Allow and Deny
)

// textLine is one line of text in the consent window.
type textLine struct {
	x, y  int
	text  string
	color uint32
}

// consentView is the laid-out consent window.
type consentView struct {
	w, h      int
	lines     []textLine
	buttons   []button // checkboxes "cap-N", then "allow" and "deny"
	countdown int      // index in lines of the "No answer refuses" line
	caps      []string // the raw capability of each checkbox, by N
}

// layoutConsent lays out prompt p for a screen sw pixels wide; every text
// is encoded for a font with characters lo..hi and cut or wrapped to fit.
func layoutConsent(p consent.Prompt, sw int, m barMetrics, lo, hi int) *consentView {
	enc := func(s string) string { return encode(s, lo, hi) }
	cols := minCols
	for _, l := range p.Head {
		cols = max(cols, len(enc(l)))
	}
	for _, c := range p.Caps {
		cols = max(cols, checkCols+len(enc(c.Name+": "+c.Meaning)))
	}
	cols = min(cols, maxCols, (sw-2*winPad)/m.charW)
	cols = max(cols, 10)

	v := &consentView{}
	y := winPad
	add := func(text string, indent int, color uint32) {
		v.lines = append(v.lines, textLine{x: winPad + indent*m.charW, y: y, text: cut(text, cols-indent), color: color})
		y += m.lineH
	}
	gap := func() { y += m.lineH / 2 }
	add("Tether: remote support request", 0, colInk)
	gap()
	for _, l := range p.Head {
		add(enc(l), 0, colInk)
	}
	gap()
	add("The technician asks to (untick what you do not allow):", 0, colInk)
	if len(p.Caps) == 0 {
		add("(nothing)", 2, colInk)
	}
	for i, c := range p.Caps {
		rowH := max(m.lineH, 2*m.charW) + 4
		v.buttons = append(v.buttons, button{name: "cap-" + strconv.Itoa(i), check: true, on: true, enabled: true,
			rect: screen.Rect{X: winPad, Y: y, W: cols * m.charW, H: rowH}})
		v.lines = append(v.lines, textLine{x: winPad + checkCols*m.charW, y: y + (rowH-m.lineH)/2,
			text: cut(enc(c.Name+": "+c.Meaning), cols-checkCols), color: colInk})
		v.caps = append(v.caps, c.Raw)
		y += rowH
	}
	for _, n := range p.Notes {
		gap()
		for _, l := range wrap(enc(n), cols) {
			add(l, 0, colInk)
		}
	}
	gap()
	add("Security code: "+enc(p.SecurityCode), 0, colCode)
	add("Ask the technician to read this code to you; it must match.", 0, colInk)
	gap()
	v.countdown = len(v.lines)
	add("", 0, colInk)
	gap()
	btnH := m.lineH + 2*btnPadY + 4
	deny := len("Deny")*m.charW + 2*btnWideX
	allow := len("Allow")*m.charW + 2*btnWideX
	w := 2*winPad + cols*m.charW
	x := w - winPad - deny
	v.buttons = append(v.buttons,
		button{name: "allow", label: "Allow", rect: screen.Rect{X: x - btnGap - allow, Y: y, W: allow, H: btnH}},
		button{name: "deny", label: "Deny", enabled: true, rect: screen.Rect{X: x, Y: y, W: deny, H: btnH}})
	v.w, v.h = w, y+btnH+winPad
	return v
}

// wrap splits s into lines of at most cols cells at spaces; a word longer
// than a line is cut.
func wrap(s string, cols int) []string {
	var out []string
	line := ""
	for _, w := range strings.Fields(s) {
		switch {
		case line == "":
			line = w
		case len(line)+1+len(w) <= cols:
			line += " " + w
		default:
			out = append(out, cut(line, cols))
			line = w
		}
	}
	if line != "" {
		out = append(out, cut(line, cols))
	}
	return out
}

// countdownText says when the prompt refuses by itself.
func countdownText(left string) string {
	return "No answer refuses in " + left + "."
}
