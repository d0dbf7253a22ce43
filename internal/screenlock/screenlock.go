// Package screenlock locks the end user's screen when a support session
// ends, so that a session left open cannot be picked up by whoever walks
// past the computer next.
package screenlock

import (
	"bytes"
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
const Timeout = 5 * time.Second

// ErrNotLocked is wrapped by the error from Locker.Lock when no lock method
// worked. On a headless machine this is expected; callers report it.
var ErrNotLocked = errors.New("screenlock: screen not locked")

// CustomMethod is the method Locker.Lock reports when it ran Locker.Cmd.
const CustomMethod = "custom command"

// candidate is one way of locking the screen: a short name for people and
// the program with its arguments.
type candidate struct {
	name string
	argv []string
}

// cmd is a candidate named after its command line.
func cmd(argv ...string) candidate { return candidate{name: strings.Join(argv, " "), argv: argv} }

func (m candidate) String() string { return m.name }

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

// Lock locks the screen once: with Cmd, by running it (and nothing else);
// otherwise by trying the platform's methods in order until one succeeds,
// so a method that fails is followed by the next. On Linux these are
// `xscreensaver-command -lock` (when DISPLAY is set), the
// org.freedesktop.ScreenSaver.Lock and org.gnome.ScreenSaver.Lock D-Bus
// calls (through dbus-send, waiting for the answer), `loginctl
// lock-session` (`loginctl lock-sessions` without XDG_SESSION_ID) and
// `xdg-screensaver lock`; on macOS `pmset displaysleepnow` and the
// CGSession -suspend path; on Windows `rundll32.exe
// user32.dll,LockWorkStation`. Each attempt is bounded by Timeout.
//
// Lock returns the method that worked, or an error wrapping ErrNotLocked
// that names every method tried and how it failed.
func (l Locker) Lock(ctx context.Context) (method string, err error) {
	if l.Cmd != "" {
		if err := run(ctx, candidate{CustomMethod, []string{"sh", "-c", l.Cmd}}); err != nil {
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

// Describe is the one-line account of a Lock call given to the end user,
// the technician and the audit log: "screen locked (METHOD)" or
// "screen lock FAILED: REASON".
func Describe(method string, err error) string {
	if err == nil {
		return "screen locked (" + method + ")"
	}
	return "screen lock FAILED: " + Reason(err)
}

// Reason is err without the package's prefix: why the screen is not locked.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	return strings.TrimPrefix(err.Error(), ErrNotLocked.Error()+": ")
}

func (l Locker) logger() *slog.Logger {
	if l.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return l.Logger
}

// stderrLimit bounds how much of a failed method's error output is kept.
const stderrLimit = 160

// run runs m to completion within Timeout. A failure carries the first line
// of what the method printed on stderr, which usually says why.
func run(ctx context.Context, m candidate) error {
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	c := exec.CommandContext(ctx, m.argv[0], m.argv[1:]...)
	c.WaitDelay = time.Second
	var stderr limitedBuffer
	c.Stderr = &stderr
	err := c.Run()
	if err == nil {
		return nil
	}
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("no answer within %v", Timeout)
	}
	if line := stderr.firstLine(); line != "" {
		return fmt.Errorf("%v (%s)", err, line)
	}
	return err
}

// limitedBuffer keeps the first stderrLimit bytes written to it.
type limitedBuffer struct{ b bytes.Buffer }

func (w *limitedBuffer) Write(p []byte) (int, error) {
	if room := stderrLimit - w.b.Len(); room > 0 {
		w.b.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (w *limitedBuffer) firstLine() string {
	s := strings.TrimSpace(w.b.String())
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}
