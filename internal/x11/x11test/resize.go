package x11test

import (
	"fmt"
	"testing"

	"github.com/jezek/xgb/randr"
	"github.com/jezek/xgb/xproto"
)

// Resize changes the screen size through RandR, as a display settings tool
// would. Xvfb (21.1) knows exactly one mode, its start-up size, and refuses
// a screen larger than that (and `xrandr --fb` or new modes do not get
// around it), so Resize can only shrink: it switches the CRTC off and sets
// the smaller screen size. ResizeBack restores the start-up size and mode.
func (x *Xvfb) Resize(t testing.TB, width, height int) {
	t.Helper()
	if err := x.resize(width, height, false); err != nil {
		t.Fatalf("x11test: resize to %dx%d: %v", width, height, err)
	}
}

// ResizeBack restores the size the server started with, CRTC on.
func (x *Xvfb) ResizeBack(t testing.TB) {
	t.Helper()
	if err := x.resize(x.Width, x.Height, true); err != nil {
		t.Fatalf("x11test: resize back to %dx%d: %v", x.Width, x.Height, err)
	}
}

// resize disables the first CRTC, sets the screen size and, with enable,
// turns the CRTC back on with the server's first mode on its first output.
func (x *Xvfb) resize(width, height int, enable bool) error {
	c, err := x.Conn()
	if err != nil {
		return err
	}
	defer c.Close()
	root := xproto.Setup(c).DefaultScreen(c).Root
	if _, err := randr.QueryVersion(c, 1, 5).Reply(); err != nil {
		return err
	}
	res, err := randr.GetScreenResources(c, root).Reply()
	if err != nil {
		return err
	}
	if len(res.Crtcs) == 0 || len(res.Outputs) == 0 || len(res.Modes) == 0 {
		return fmt.Errorf("no CRTC, output or mode to change")
	}
	crtc := res.Crtcs[0]
	r, err := randr.SetCrtcConfig(c, crtc, 0, res.ConfigTimestamp, 0, 0, 0, randr.RotationRotate0, nil).Reply()
	if err != nil {
		return fmt.Errorf("crtc off: %w", err)
	}
	if r.Status != randr.SetConfigSuccess {
		return fmt.Errorf("crtc off: status %d", r.Status)
	}
	mm := func(px int) uint32 { return uint32(px * 254 / 960) } // 96 dpi
	err = randr.SetScreenSizeChecked(c, root, uint16(width), uint16(height), mm(width), mm(height)).Check()
	if err != nil || !enable {
		return err
	}
	r, err = randr.SetCrtcConfig(c, crtc, 0, res.ConfigTimestamp, 0, 0, randr.Mode(res.Modes[0].Id),
		randr.RotationRotate0, res.Outputs[:1]).Reply()
	if err != nil {
		return fmt.Errorf("crtc on: %w", err)
	}
	if r.Status != randr.SetConfigSuccess {
		return fmt.Errorf("crtc on: status %d", r.Status)
	}
	return nil
}
