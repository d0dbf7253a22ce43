// Package x11 connects the agent's desktop capability to an X11 display
// with the pure-Go X protocol client github.com/jezek/xgb.
//
// Open connects to a display with an explicit Xauthority file. A Display
// hands out a screen.Source, which captures the root window through MIT-SHM
// (falling back to core GetImage, split into bands that fit the server's
// request limit), reports what changed through XDamage, follows size
// changes through RandR and reads the cursor through XFixes; and a
// screen.Injector, which sends keys, pointer motion, buttons and wheel
// notches through XTEST and releases everything it pressed on ReleaseAll.
//
// Detect tells an X11 session from a Wayland one (whose screen cannot be
// captured this way) and FindSession finds the active graphical session's
// DISPLAY and XAUTHORITY for an agent running as a service.
//
// Supported pixel formats: TrueColor visuals of depth 24 or 32 stored in 32
// bits per pixel with red 0xff0000, green 0xff00, blue 0xff in LSB-first
// byte order — the layout of screen.Frame. Other visuals are refused.
package x11
