// Package x11test starts private X servers (Xvfb) for tests and benchmarks
// and draws deterministic test windows on them with plain X requests —
// filled rectangles of known colours, no fonts — so a capture can be
// compared pixel for pixel with what was drawn.
//
//	x := x11test.StartXvfb(t, 320, 240)
//	w := x11test.NewWindow(t, x, screen.Rect{X: 10, Y: 10, W: 100, H: 80})
//	w.Fill(screen.Rect{W: 100, H: 80}, x11test.Red)
//
// Xvfb missing: the test is skipped with a message naming the Debian
// package, or fails when TETHER_CI is set (CI must have everything).
package x11test
