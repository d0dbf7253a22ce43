package agent

import (
	"context"
	"time"

	"github.com/tether-support/tether/internal/consent"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/screenlock"
)

// EndUser is how the agent talks with the person at the device: it asks
// for consent and tells them what their sessions are doing. The terminal
// (console) is one implementation; a graphical prompt can be another. The
// end user's own commands ("end", "revoke", "status") act on the live
// sessions through liveSessions, which the implementation is given.
//
// Every text an implementation shows from the technician or the relay must
// be sanitized (the terminal uses sanitize.Display); Notice texts already
// are.
type EndUser interface {
	// Listen starts taking the end user's commands; it returns at once and
	// may be called more than once.
	Listen(ctx context.Context)
	// CanAsk reports whether AskConsent can reach the end user.
	CanAsk() bool
	// AskConsent shows req and waits for the answer, refusing when none
	// comes within timeout or ctx ends.
	AskConsent(ctx context.Context, req consent.Request, timeout time.Duration) consent.Decision
	// SessionStarted tells the end user a session is now live.
	SessionStarted(v SessionView)
	// Status shows what a live session may do now (after a grant or a
	// revocation, or when asked).
	Status(v SessionView)
	// SessionEnded tells the end user why a live session ended and what
	// became of the screen lock (nil: the parent session locks later).
	SessionEnded(reason string, lock *LockResult)
	// Notice tells the end user what is happening: a file moving, the
	// clipboard read.
	Notice(text string)
	// LockResult tells the end user what became of a screen lock.
	LockResult(lock *LockResult)
}

// SessionView is what the end user is shown about one live session.
type SessionView struct {
	ID       ids.SessionID
	TechName string
	TechUser string
	Caps     []string // what is granted now
}

// LockResult is what became of one screen lock.
type LockResult struct {
	Method string // how it was locked (or tried)
	Err    error  // nil when the screen is locked
}

// String is the one-line account told to everyone concerned.
func (r *LockResult) String() string { return screenlock.Describe(r.Method, r.Err) }
