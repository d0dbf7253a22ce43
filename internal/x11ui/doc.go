// Package x11ui draws what the end user sees of a desktop session on their
// own X display, with plain X requests (github.com/jezek/xgb, no toolkit):
//
//   - the indicator (OpenIndicator): an always-on-top bar at the top of the
//     screen saying who is viewing or controlling the screen, with the
//     buttons Pause (Resume while paused), Stop control (while controlling)
//     and End, and a global hotkey, Ctrl+Alt+Shift+E, that ends the
//     session. Clicks and the hotkey arrive on Events;
//   - the desktop consent window (AskConsent), for agents started without
//     a terminal: the content of the terminal prompt (technician,
//     organisation, one line per capability with a checkbox, recorded or
//     not, the security code) with Allow and Deny; no answer in time
//     refuses.
//
// Both are override-redirect windows, so no window manager can hide or
// move them, and both raise themselves again when another window covers
// them (at most a few times a second, so two such windows cannot fight
// forever). Text is drawn with the core font "fixed", which every X server
// has built in. Everything a peer controls is passed through
// internal/sanitize and cut to fit.
//
// Each window has its own X connection, opened through internal/x11 (Dial),
// and publishes its buttons' rectangles in the window property
// _TETHER_BUTTONS, so a test, or anything else on the display, can find
// and press them (Locate, Click) without access to this process.
//
// Input a technician injects must not answer the end user's questions for
// them: while a consent window is open, or where the indicator is, Shielded
// reports true, and the agent drops injected input there.
package x11ui
