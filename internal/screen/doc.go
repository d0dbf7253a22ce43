// Package screen holds the types shared by everything that touches a remote
// desktop: a captured frame, the cursor, rectangles, input events, and the two
// seams between the agent's desktop capability and a display system — a
// Source to capture from and an Injector to send input to. The X11
// implementation lives in internal/x11; the tile codec that turns frames into
// screen updates lives in internal/tilecodec.
package screen
