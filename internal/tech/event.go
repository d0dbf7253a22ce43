package tech

import (
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
)

// Event is something that happened on the way to, or during, a session with
// a device: a JoinCode, SessionOpened, SecurityCode, ConsentAnswered,
// CapAnswered, CapRevoked, Progress, FileCopied, FileSkipped, ScreenLockReport or
// Exited. The client hands each to its Observer as it happens.
//
// String fields hold what the relay or the device sent, unfiltered: a
// program that shows one to a person must make it inert first (the tech
// CLI passes every one through the sanitize package).
type Event interface{ event() }

// Observer receives a client's events as they happen, on the goroutine
// that produced them: in order, except that a copy's CapRevoked comes from
// the goroutine reading the channel, beside the copy's own events. It must
// be safe for that and must not block for long.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to an Observer.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// JoinCode is the one-time code of an attended session, to pass on to the
// person being helped, with the relay they join and its pin.
type JoinCode struct {
	Code       string
	Relay, Pin string
}

// SessionOpened: the relay paired this client with the device's agent.
type SessionOpened struct {
	ID         ids.SessionID
	DeviceName string
	Mode       string // "attended" or "unattended"
}

// SecurityCode is the code both ends derived from the end-to-end
// handshake; the end user sees the same one.
type SecurityCode struct {
	SessionID  ids.SessionID
	DeviceName string
	Code       string
}

// ConsentAnswered is the end user's answer: the capabilities granted, or
// (Granted false) the reason given for refusing.
type ConsentAnswered struct {
	Granted bool
	Caps    []string
	Why     string
}

// CapRevoked: the end user revoked capabilities; Caps is what stays
// granted (screen-view revoked takes screen-control too).
type CapRevoked struct {
	Caps []string
	Why  string
}

// CapAnswered is the agent's answer to a mid-session capability request
// (LiveSession.SendCapRequest, RequestCaps): Caps is everything granted
// now; with Granted false the request was refused and Why says why (the
// end user said no, the technician's role does not allow it, too many or
// too frequent requests).
type CapAnswered struct {
	Granted bool
	Caps    []string
	Why     string
}

// Progress is how far one file of a copy has come: Done of Size bytes.
// It comes once with Done 0 when the file starts, then after every chunk.
type Progress struct {
	Name       string // the file's base name
	Done, Size int64
}

// FileCopied is one file copied and verified by SHA-256. Local is the
// path on this machine; Remote the device's path (uploads only).
type FileCopied struct {
	Upload        bool
	DeviceName    string
	Local, Remote string
	Size          int64
	SHA256        string
}

// FileSkipped is a local entry an upload left out (not a regular file).
type FileSkipped struct{ Path string }

// ScreenLockReport is what the device said about locking its screen as
// the session ended; Malformed if the report could not be read.
type ScreenLockReport struct {
	protocol.ScreenLock
	Malformed bool
}

// Exited is how a shell or command's session ended: Code is the command's
// exit status (-1 if none came); Reason is why the session ended, as the
// relay or agent said, or with Lost, why the connection was lost.
type Exited struct {
	Code   int
	Reason string
	Lost   bool
}

func (JoinCode) event()         {}
func (SessionOpened) event()    {}
func (SecurityCode) event()     {}
func (ConsentAnswered) event()  {}
func (CapRevoked) event()       {}
func (CapAnswered) event()      {}
func (Progress) event()         {}
func (FileCopied) event()       {}
func (FileSkipped) event()      {}
func (ScreenLockReport) event() {}
func (Exited) event()           {}

// emit hands e to the client's observer, if it has one.
func (c *Client) emit(e Event) {
	if c.Observer != nil {
		c.Observer.Observe(e)
	}
}
