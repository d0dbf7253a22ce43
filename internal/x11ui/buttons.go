package x11ui

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/tether-support/tether/internal/screen"
)

// button is one clickable area of a window.
type button struct {
	name  string      // stable name published in _TETHER_BUTTONS
	label string      // text drawn on it
	rect  screen.Rect // window coordinates
	// enabled is false while the button ignores clicks (drawn greyed).
	enabled bool
	// check is set for a checkbox: drawn as a box, ticked when on.
	check, on bool
}

// hit returns the enabled button at x, y (window coordinates), or nil.
func hit(bs []button, x, y int) *button {
	for i := range bs {
		b := &bs[i]
		if b.enabled && x >= b.rect.X && y >= b.rect.Y && x < b.rect.X+b.rect.W && y < b.rect.Y+b.rect.H {
			return b
		}
	}
	return nil
}

// Limits of the _TETHER_BUTTONS property parser.
const (
	maxButtons    = 64
	maxButtonName = 32
	maxButtonProp = maxButtons * (maxButtonName + 4*6 + 1)
)

// formatButtons encodes the enabled buttons as _TETHER_BUTTONS: one line
// "NAME X Y W H" per button, window coordinates.
func formatButtons(bs []button) []byte {
	var b bytes.Buffer
	for _, bt := range bs {
		if bt.enabled {
			fmt.Fprintf(&b, "%s %d %d %d %d\n", bt.name, bt.rect.X, bt.rect.Y, bt.rect.W, bt.rect.H)
		}
	}
	return b.Bytes()
}

// parseButtons decodes a _TETHER_BUTTONS property, which any client on the
// display may have written: names of lower-case letters, digits and '-',
// coordinates 0–65535, at most maxButtons lines.
func parseButtons(p []byte) (map[string]screen.Rect, error) {
	if len(p) > maxButtonProp {
		return nil, fmt.Errorf("x11ui: buttons property of %d bytes is too long", len(p))
	}
	out := map[string]screen.Rect{}
	if len(p) == 0 {
		return out, nil
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(p), "\n"), "\n") {
		f := strings.Split(line, " ")
		if len(f) != 5 || !validName(f[0]) {
			return nil, fmt.Errorf("x11ui: bad buttons line %q", cut(line, 60))
		}
		var v [4]int
		for i := range v {
			n, err := strconv.ParseUint(f[i+1], 10, 16)
			if err != nil || (len(f[i+1]) > 1 && f[i+1][0] == '0') {
				return nil, fmt.Errorf("x11ui: bad coordinate in buttons line %q", cut(line, 60))
			}
			v[i] = int(n)
		}
		if _, dup := out[f[0]]; dup || len(out) == maxButtons {
			return nil, fmt.Errorf("x11ui: duplicate or too many buttons in %q", cut(line, 60))
		}
		out[f[0]] = screen.Rect{X: v[0], Y: v[1], W: v[2], H: v[3]}
	}
	return out, nil
}

// validName reports whether s is a button name.
func validName(s string) bool {
	if s == "" || len(s) > maxButtonName {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// clicker turns button 1 presses and releases into clicks: a press and a
// release on the same enabled button. The caller serializes calls.
type clicker struct{ pressed string }

// event handles a press or release at x, y (window coordinates) and
// returns the name of the clicked button, or "".
func (c *clicker) event(bs []button, press bool, x, y int) string {
	name := ""
	if b := hit(bs, x, y); b != nil {
		name = b.name
	}
	if press {
		c.pressed = name
		return ""
	}
	clicked := name != "" && name == c.pressed
	c.pressed = ""
	if clicked {
		return name
	}
	return ""
}
