package x11ui

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/x11"
)

// ErrNotShown is returned by Locate and Click when no mapped window of the
// class shows the button (yet).
var ErrNotShown = errors.New("x11ui: not shown")

// Locate finds the mapped override-redirect window whose WM_CLASS instance
// is class (ClassIndicator, ClassConsent) on display and returns its
// buttons' rectangles in root coordinates, by name: "pause", "resume",
// "stop-control", "end" on the indicator; "allow", "deny" and "cap-N"
// (the N-th capability's checkbox) on the consent window. A button that
// ignores clicks (Allow, in its first moments) is not listed. It reads
// only what the window publishes, so it works from any process: a test
// hook.
func Locate(display, xauthority, class string) (map[string]screen.Rect, error) {
	c, err := x11.Dial(display, xauthority)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return locate(c, class)
}

// locate is Locate on an open connection.
func locate(c *xgb.Conn, class string) (map[string]screen.Rect, error) {
	root := xproto.Setup(c).DefaultScreen(c).Root
	tree, err := xproto.QueryTree(c, root).Reply()
	if err != nil {
		return nil, fmt.Errorf("x11ui: query tree: %w", err)
	}
	a, err := xproto.InternAtom(c, false, uint16(len(propButtons)), propButtons).Reply()
	if err != nil {
		return nil, fmt.Errorf("x11ui: intern %s: %w", propButtons, err)
	}
	for i := len(tree.Children) - 1; i >= 0; i-- { // topmost first
		win := tree.Children[i]
		if !isShown(c, win) || windowClass(c, win) != class {
			continue
		}
		p, err := xproto.GetProperty(c, false, win, a.Atom, xproto.AtomString, 0, maxButtonProp/4+1).Reply()
		if err != nil {
			return nil, fmt.Errorf("x11ui: read %s: %w", propButtons, err)
		}
		bs, err := parseButtons(p.Value)
		if err != nil {
			return nil, err
		}
		g, err := xproto.GetGeometry(c, xproto.Drawable(win)).Reply()
		if err != nil {
			return nil, fmt.Errorf("x11ui: geometry: %w", err)
		}
		for k, r := range bs {
			bs[k] = screen.Rect{X: int(g.X) + r.X, Y: int(g.Y) + r.Y, W: r.W, H: r.H}
		}
		return bs, nil
	}
	return nil, fmt.Errorf("%w: no %s window", ErrNotShown, class)
}

// isShown reports whether win is a viewable override-redirect window.
func isShown(c *xgb.Conn, win xproto.Window) bool {
	at, err := xproto.GetWindowAttributes(c, win).Reply()
	return err == nil && at.OverrideRedirect && at.MapState == xproto.MapStateViewable
}

// windowClass returns the instance part of win's WM_CLASS.
func windowClass(c *xgb.Conn, win xproto.Window) string {
	p, err := xproto.GetProperty(c, false, win, xproto.AtomWmClass, xproto.AtomString, 0, 64).Reply()
	if err != nil {
		return ""
	}
	inst, _, _ := strings.Cut(string(p.Value), "\x00")
	return inst
}

// Click presses and releases the left button, through XTEST, at the
// centre of the button called name on the window of class (see Locate): a
// test hook for pressing the end user's buttons from any process.
func Click(ctx context.Context, display, xauthority, class, name string) error {
	bs, err := Locate(display, xauthority, class)
	if err != nil {
		return err
	}
	r, ok := bs[name]
	if !ok {
		return fmt.Errorf("%w: no button %q on the %s window", ErrNotShown, name, class)
	}
	d, err := x11.Open(display, xauthority)
	if err != nil {
		return err
	}
	defer d.Close()
	in, err := d.Injector()
	if err != nil {
		return err
	}
	defer in.Close()
	x, y := r.X+r.W/2, r.Y+r.H/2
	for _, b := range []uint8{0, 1, 0} {
		if err := in.Pointer(ctx, x, y, b); err != nil {
			return err
		}
	}
	return nil
}
