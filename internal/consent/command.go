package consent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode"

	"github.com/tether-support/tether/internal/sanitize"
)

// Defaults for Command.
const (
	DefaultShell   = "sh"
	DefaultTimeout = 60 * time.Second

	maxOutput = 4 << 10         // bytes of stdout read from the command
	waitDelay = 2 * time.Second // grace for pipes after the command ends
)

var (
	// ErrNoCommand is returned by Command.Ask when Cmd is empty.
	ErrNoCommand = errors.New("consent: no consent command configured")
	// ErrTimeout is returned by Command.Ask when the command does not
	// answer within its timeout.
	ErrTimeout = errors.New("consent: consent command timed out")
)

// Command asks for consent by running an external command through a shell.
// A Command is a plain value: it may be copied and used concurrently.
//
// The command sees the agent's environment plus the request as TETHER_*
// variables (see Ask). It grants by exiting 0 and refuses by exiting
// non-zero. Whatever runs here decides who gets a shell on this computer:
// it must come from the agent's own configuration, never from the network.
type Command struct {
	// Shell runs Cmd as `Shell -c Cmd`. Empty means DefaultShell ("sh").
	Shell string
	// Cmd is the shell command line. Empty makes Ask refuse with ErrNoCommand.
	Cmd string
	// Timeout bounds the whole command; when it passes, the command's
	// process group is killed and the request refused. Zero or less means
	// DefaultTimeout (60s).
	Timeout time.Duration
	// Stderr receives the command's standard error. Nil discards it.
	Stderr io.Writer
}

func (c Command) shell() string {
	if c.Shell == "" {
		return DefaultShell
	}
	return c.Shell
}

func (c Command) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

// Ask runs the command for req and returns its decision.
//
// The command's environment adds TETHER_SESSION_ID, TETHER_TECH
// ("Display Name (username)"), TETHER_CAPABILITIES (comma-separated),
// TETHER_SECURITY_CODE, TETHER_RECORDED ("yes" or "no"), TETHER_ORG,
// TETHER_REASON and TETHER_TECH_VERIFIED ("yes <organisation>" when the
// agent verified the technician's certificate, else "no"), all passed
// through sanitize.Display.
//
// Exit status 0 grants every requested capability, or, when the command
// prints a list of capabilities separated by commas or white space, only
// those that were also requested. Any other exit status refuses with a nil
// error. Ask also refuses, and returns a non-nil error, when the command
// cannot start, is killed by a signal, times out (ErrTimeout), leaves its
// output open, or ctx is cancelled. The returned Decision is meaningful in
// every case.
func (c Command) Ask(ctx context.Context, req Request) (Decision, error) {
	if strings.TrimSpace(c.Cmd) == "" {
		return refuse("no consent command configured"), ErrNoCommand
	}
	tctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()

	cmd := exec.CommandContext(tctx, c.shell(), "-c", c.Cmd)
	cmd.Env = append(os.Environ(), environ(req)...)
	out := &capWriter{max: maxOutput}
	cmd.Stdout = out
	cmd.Stderr = c.Stderr
	cmd.WaitDelay = waitDelay
	setProcessGroup(cmd)

	err := cmd.Run()
	switch {
	case ctx.Err() != nil:
		return refuse("consent cancelled"), fmt.Errorf("consent: command: %w", ctx.Err())
	case tctx.Err() != nil:
		why := "no answer within " + formatTimeout(c.timeout())
		return refuse(why), ErrTimeout
	case err != nil:
		return failed(err)
	case out.over:
		return refuse("consent command printed too much"),
			fmt.Errorf("consent: command printed more than %d bytes", maxOutput)
	}
	return grant(req, out.buf.String()), nil
}

// failed turns the error from a finished command into a refusal. A plain
// non-zero exit is an answer (nil error); anything else is a failure.
func failed(err error) (Decision, error) {
	d := refuse("consent command failed: " + err.Error())
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Exited() {
		return d, nil
	}
	return d, fmt.Errorf("consent: command: %w", err)
}

// grant returns the Decision for a command that exited 0 having printed out.
func grant(req Request, out string) Decision {
	listed := strings.FieldsFunc(out, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(listed) == 0 {
		return Decision{Granted: true, Capabilities: append([]string(nil), req.Capabilities...)}
	}
	var caps []string
	for _, c := range req.Capabilities {
		if contains(listed, c) && !contains(caps, c) {
			caps = append(caps, c)
		}
	}
	if len(caps) == 0 {
		return refuse("consent command granted none of the requested capabilities")
	}
	return Decision{Granted: true, Capabilities: caps}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// environ returns the TETHER_* variables describing req.
func environ(req Request) []string {
	caps := make([]string, len(req.Capabilities))
	for i, c := range req.Capabilities {
		caps[i] = sanitize.Display(c, maxCap)
	}
	recorded := "no"
	if req.Recorded {
		recorded = "yes"
	}
	return []string{
		"TETHER_SESSION_ID=" + sanitize.Display(req.SessionID, maxField),
		"TETHER_TECH=" + techLine(req),
		"TETHER_CAPABILITIES=" + strings.Join(caps, ","),
		"TETHER_SECURITY_CODE=" + sanitize.Display(req.SecurityCode, maxField),
		"TETHER_RECORDED=" + recorded,
		"TETHER_ORG=" + sanitize.Display(req.Org, maxField),
		"TETHER_REASON=" + sanitize.Display(req.Reason, maxReason),
		"TETHER_TECH_VERIFIED=" + verifiedLine(req),
	}
}

// verifiedLine is "yes <organisation>" for a certified technician, else
// "no".
func verifiedLine(req Request) string {
	if req.Verified == "" {
		return "no"
	}
	return "yes " + sanitize.Display(req.Verified, maxField)
}

// capWriter keeps the first max bytes written to it and discards the rest,
// noting that it did. It never fails, so the command is never blocked.
type capWriter struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	n := len(p)
	room := w.max - w.buf.Len()
	if len(p) > room {
		w.over = true
		p = p[:max(room, 0)]
	}
	w.buf.Write(p)
	return n, nil
}
