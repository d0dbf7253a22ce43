package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/tether-support/tether/internal/consent"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
)

// console is the end user's terminal, the EndUser of a terminal session:
// consent prompts, the status line of live sessions, and the "end" command
// that ends them at once. One goroutine reads lines; they answer a pending
// prompt or are taken as commands on the live sessions.
type console struct {
	in   *os.File
	out  io.Writer
	tty  bool
	once sync.Once
	live *liveSessions

	mu     sync.Mutex
	lines  chan string
	prompt sync.Mutex // one consent prompt at a time
	asking bool
}

var _ EndUser = (*console)(nil)

func newConsole(in *os.File, out io.Writer, live *liveSessions) *console {
	return &console{in: in, out: out, tty: term.IsTerminal(int(in.Fd())), lines: make(chan string), live: live}
}

// CanAsk reports whether the console is a terminal to ask on.
func (c *console) CanAsk() bool { return c.tty }

// Listen begins reading the terminal (once; only if it is one).
func (c *console) Listen(ctx context.Context) {
	if !c.tty {
		return
	}
	c.once.Do(func() { go c.read(ctx) })
}

// read dispatches each typed line. "end" and "revoke" are commands even
// while a prompt is open, so nothing the technician triggers can make them
// count as an answer: "end" ends every live session and refuses the open
// prompt; "revoke" acts and leaves the prompt open.
func (c *console) read(ctx context.Context) {
	sc := bufio.NewScanner(c.in)
	for sc.Scan() {
		line := sc.Text()
		cmd := strings.TrimSpace(strings.ToLower(line))
		c.mu.Lock()
		asking := c.asking
		c.mu.Unlock()
		if asking && !isPriority(cmd) {
			select {
			case c.lines <- line:
			case <-ctx.Done():
				return
			}
			continue
		}
		if asking && isEnd(cmd) {
			c.live.endAll()
			c.refusePrompt()
			continue
		}
		c.command(cmd)
	}
}

// isEnd reports whether cmd is the end user's "end" command.
func isEnd(cmd string) bool {
	switch cmd {
	case "end", "e", "q", "quit", "stop":
		return true
	}
	return false
}

// isPriority reports whether cmd is handled as a command even while a
// prompt is open.
func isPriority(cmd string) bool {
	word, _, _ := strings.Cut(cmd, " ")
	return isEnd(cmd) || word == "revoke" || word == "r"
}

// refusePrompt answers the open prompt, if any, with a refusal.
func (c *console) refusePrompt() {
	select {
	case c.lines <- "":
	case <-time.After(100 * time.Millisecond):
	}
}

// command handles a line typed outside a prompt.
func (c *console) command(cmd string) {
	word, arg, _ := strings.Cut(cmd, " ")
	switch word {
	case "end", "e", "q", "quit", "stop":
		if c.live.endAll() == 0 {
			fmt.Fprintf(c.out, "No session is active.\n")
		}
	case "revoke", "r":
		c.revoke(arg)
	case "status", "s":
		for _, v := range c.live.views() {
			c.Status(v)
		}
	case "":
	default:
		fmt.Fprintf(c.out, "Type 'end' to end the session, 'revoke NAME' to take a permission back (%s), 'status' to see it.\n",
			strings.Join(revocable, ", "))
	}
}

// revocable lists what "revoke" accepts.
var revocable = []string{protocol.CapShell, protocol.CapFiles, protocol.CapFilesTo, protocol.CapFilesFrom, protocol.CapClipboard,
	protocol.CapScreenView, protocol.CapScreenControl}

// revoke handles "revoke CAPS": each named capability is taken from every
// live session; a name that is unknown, or granted nowhere, is reported.
func (c *console) revoke(arg string) {
	caps := strings.FieldsFunc(arg, func(r rune) bool { return r == ',' || r == ' ' })
	if len(caps) == 0 {
		fmt.Fprintf(c.out, "Say what to revoke: one of %s, e.g. 'revoke files:from-device'.\n", strings.Join(revocable, ", "))
		return
	}
	for _, cp := range caps {
		if !slices.Contains(revocable, cp) {
			fmt.Fprintf(c.out, "Unknown permission %q: you can revoke %s.\n", sanitize.Display(cp, 40), strings.Join(revocable, ", "))
			return
		}
	}
	matched, had := c.live.revoke(caps)
	if !matched {
		granted := make([]string, 0, len(had))
		for _, g := range had {
			granted = append(granted, orNothing(strings.Join(g, ", ")))
		}
		slices.Sort(granted)
		fmt.Fprintf(c.out, "Nothing revoked: %s is not granted. Granted now: %s.\n",
			strings.Join(caps, ", "), orNothing(strings.Join(slices.Compact(granted), "; ")))
	}
}

// AskConsent shows the prompt and waits for one line, or refuses on timeout.
func (c *console) AskConsent(ctx context.Context, req consent.Request, timeout time.Duration) consent.Decision {
	c.Listen(ctx)
	c.prompt.Lock()
	defer c.prompt.Unlock()
	c.setAsking(true)
	defer c.setAsking(false)
	fmt.Fprint(c.out, "\n"+consent.Render(req, timeout))
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case line := <-c.lines:
		return consent.ParseAnswer(line, req)
	case <-t.C:
		fmt.Fprintf(c.out, "\nNo answer: the session was refused.\n")
		return consent.Decision{Why: fmt.Sprintf("no answer within %v", timeout)}
	case <-ctx.Done():
		return consent.Decision{Why: "agent shutting down"}
	}
}

func (c *console) setAsking(v bool) {
	c.mu.Lock()
	c.asking = v
	c.mu.Unlock()
}

// SessionStarted shows the status line of a session that just started.
func (c *console) SessionStarted(v SessionView) { c.Status(v) }

// Status prints the status line of a session: who, what is granted, which
// keys.
func (c *console) Status(v SessionView) {
	who := sanitize.Display(v.TechName, 60) + " (" + sanitize.Display(v.TechUser, 40) + ")"
	fmt.Fprintf(c.out, "\n● Session active: %s may use: %s (recorded). Type 'end' to end it, 'revoke NAME' (e.g. 'revoke files:from-device') to take one back.\n",
		who, sanitize.Display(orNothing(strings.Join(v.Caps, ", ")), 80))
}

// Notice tells the end user what is happening (a file moving, the
// clipboard read). The text must already be sanitized.
func (c *console) Notice(text string) {
	fmt.Fprintf(c.out, "  %s\n", text)
}

// SessionEnded tells the end user why a session ended and, truthfully,
// what became of the screen lock (nil: the session reused a parent's
// consent, and the parent locks when it ends).
func (c *console) SessionEnded(reason string, lock *LockResult) {
	fmt.Fprintf(c.out, "\n○ Session ended: %s.\n", sanitize.Display(reason, 200))
	c.LockResult(lock)
}

// LockResult tells the end user what became of a screen lock.
func (c *console) LockResult(lock *LockResult) {
	switch {
	case lock == nil:
		fmt.Fprintf(c.out, "  The screen will be locked when the session this one belonged to ends.\n")
	case lock.Err == nil:
		fmt.Fprintf(c.out, "  %s.\n", sanitize.Display(lock.String(), 200))
	default:
		fmt.Fprintf(c.out, "  WARNING: %s\n  Lock the screen yourself now (or sign out).\n", sanitize.Display(lock.String(), 400))
	}
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}
