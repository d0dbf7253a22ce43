// Package screenlock locks the end user's screen when a support session
// ends, so that a session left open cannot be picked up by whoever walks
// past the computer next.
package screenlock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"time"
)

// Timeout bounds each lock attempt.
const Timeout = 10 * time.Second

// ErrNotLocked is wrapped by the error from Locker.Lock when no lock method
// worked. On a headless machine this is expected; callers log it.
var ErrNotLocked = errors.New("screenlock: screen not locked")

// CustomMethod is the method Locker.Lock reports when it ran Locker.Cmd.
const CustomMethod = "custom command"

// candidate is one way of locking the screen: a program and its arguments.
type candidate []string

func (m candidate) String() string { return strings.Join(m, " ") }

// Locker locks the screen. The zero value uses the platform's lock methods
// and logs nothing. A Locker may be copied and used concurrently.
type Locker struct {
	// Cmd, when set, is run as `sh -c Cmd` instead of the platform's
	// methods. It comes from the agent's configuration.
	Cmd string
	// Logger receives a debug record for each failed attempt. Nil means
	// no logging.
	Logger *slog.Logger

	// methods replaces the platform's methods when not nil (for tests).
	methods []candidate
}

// Lock locks the screen once: with Cmd, by running it; otherwise by trying
// the platform's methods in order until one succeeds. On Linux these are
// `loginctl lock-session` (`loginctl lock-sessions` without XDG_SESSION_ID),
// the org.freedesktop.ScreenSaver.Lock D-Bus call through dbus-send, and
// `xdg-screensaver lock`; on macOS `pmset displaysleepnow` and the CGSession
// -suspend path; on Windows `rundll32.exe user32.dll,LockWorkStation`.
// Each attempt is bounded by Timeout.
//
// Lock returns the method that worked, or an error wrapping ErrNotLocked
// that names every method tried and how it failed.
func (l Locker) Lock(ctx context.Context) (method string, err error) {
	if l.Cmd != "" {
		if err := run(ctx, candidate{"sh", "-c", l.Cmd}); err != nil {
			return "", fmt.Errorf("%w: %s: %v", ErrNotLocked, CustomMethod, err)
		}
		return CustomMethod, nil
	}
	methods := l.methods
	if methods == nil {
		methods = platformMethods()
	}
	var tried []string
	for _, m := range methods {
		err := run(ctx, m)
		if err == nil {
			return m.String(), nil
		}
		l.logger().Debug("screenlock: method failed", "method", m.String(), "err", err)
		tried = append(tried, m.String()+": "+err.Error())
		if ctx.Err() != nil {
			break
		}
	}
	if len(tried) == 0 {
		return "", fmt.Errorf("%w: no lock method on this platform", ErrNotLocked)
	}
	return "", fmt.Errorf("%w: tried %s", ErrNotLocked, strings.Join(tried, "; "))
}

func (l Locker) logger() *slog.Logger {
	if l.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return l.Logger
}

// run runs m to completion within Timeout.
func run(ctx context.Context, m candidate) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, m[0], m[1:]...)
	cmd.WaitDelay = time.Second
	return cmd.Run()
}
