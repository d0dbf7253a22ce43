// Package viewer serves the technician's remote desktop page: a small HTTP
// server on 127.0.0.1 that hands one local browser tab a page (HTML, script
// and style embedded in the binary) and a WebSocket over which it draws the
// device's screen and sends keyboard and pointer input.
//
// tech does all the cryptography; the browser only draws and reports
// input. The server is built for a hostile neighbourhood: internal/localpage
// checks every request (the random token in its path, compared in constant
// time; a Host header naming exactly 127.0.0.1 and the server's port, against
// DNS rebinding; no foreign Origin; GET only) and sets a strict
// Content-Security-Policy (default-src 'self', no inline script or style, no
// framing, no caching); the WebSocket must come from the page's own origin,
// and only one page may be attached at a time.
//
// Tech → page (binary WebSocket messages, all integers big-endian):
//
//	update: 0x01 ‖ id u32 ‖ screen w u16 ‖ screen h u16 ‖ n u16 ‖
//	        n × (x u16 ‖ y u16 ‖ w u16 ‖ h u16 ‖ w·h·4 bytes RGBA)
//	cursor: 0x02 ‖ x u16 ‖ y u16 ‖ flags u8 (0x01 visible, 0x02 shape) ‖
//	        with shape: hotX u16 ‖ hotY u16 ‖ w u16 ‖ h u16 ‖ w·h·4 bytes RGBA
//
// and the session's status as a JSON text message (see Status). Raw RGBA
// rather than PNG: on loopback the bytes cost little and the page draws
// them with one putImageData. Measured on a loaded 2-core machine: a whole
// 1920×1080 frame takes tech about 20 ms to convert (BenchmarkAppendUpdateFull)
// and about 45 ms from Update to the page's acknowledgement in headless
// Chromium, one 64×64 tile one display frame, about 17 ms
// (BenchmarkChromiumUpdate); image/png at BestSpeed took about 350 ms to
// compress the same whole frame.
//
// Page → tech: small JSON text messages (see pageMsg): the acknowledgement
// of a drawn update, key events by KeyboardEvent.key and .code (mapped to X
// keysyms here, unknown keys dropped), pointer position in remote pixels
// with the DOM buttons mask, wheel notches, and the "request control" and
// "refresh" buttons. Input is validated, rate-limited (motion and wheel) and forwarded only
// while screen-control is granted.
package viewer
