// Package ids provides the typed identifiers Tether passes between its
// parts: SessionID, DeviceID and UserID. Each is a string type, so JSON and
// the store encode it exactly as the plain string it replaces, while the
// compiler refuses a device ID where a session ID is expected.
//
// New* make fresh random IDs; Parse* check a string from outside (a URL
// path, a command-line argument, a peer's message) against the format New*
// produces; Valid reports the same for a value already typed. Conversions
// from plain strings belong at those edges only.
package ids
