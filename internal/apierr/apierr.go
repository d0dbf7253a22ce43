// Package apierr is the error a relay API call fails with: an HTTP
// status, a message and a hint for the person at the client, and for a
// refusal that passes with time, when to retry. The packages behind the
// relay's routes (identity, and the relay itself) return it; the relay
// writes it as the {"error","hint"} body.
package apierr

import (
	"fmt"
	"math"
	"net/http"
	"time"
)

// Error is an error with an HTTP status and an optional hint.
type Error struct {
	Status int
	Msg    string
	Hint   string
	// RetryAfter, if positive, is sent as the Retry-After header (seconds).
	RetryAfter int
}

func (e *Error) Error() string { return e.Msg }

// New returns an error with status, hint and a formatted message.
func New(status int, hint, format string, args ...any) *Error {
	return &Error{Status: status, Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// TooMany is a 429 answer saying when to come back; Retry-After says the
// same in seconds.
func TooMany(wait time.Duration, format string, args ...any) *Error {
	secs := int(math.Ceil(wait.Seconds()))
	if secs < 1 {
		secs = 1
	}
	e := New(http.StatusTooManyRequests, fmt.Sprintf("wait %d s; attempts refused before then are not counted", secs),
		"%s, retry in %d s", fmt.Sprintf(format, args...), secs)
	e.RetryAfter = secs
	return e
}
