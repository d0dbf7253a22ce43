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

	"tether/internal/consent"
	"tether/internal/protocol"
	"tether/internal/sanitize"
)

// console is the end user's terminal: consent prompts, the status line of
// live sessions, and the "end" command that ends them at once. One goroutine
// reads lines; they answer a pending prompt or are taken as commands.
type console struct {
	in   *os.File
	out  io.Writer
	tty  bool
	once sync.Once

	mu       sync.Mutex
	lines    chan string
	prompt   sync.Mutex // one consent prompt at a time
	asking   bool
	sessions map[*session]bool
}

func newConsole(in *os.File, out io.Writer) *console {
	return &console{in: in, out: out, tty: term.IsTerminal(int(in.Fd())), lines: make(chan string),
		sessions: make(map[*session]bool)}
}

func (c *console) isTerminal() bool { return c.tty }

// start begins reading the terminal (once; only if it is one).
func (c *console) start(ctx context.Context) {
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
			c.endAll()
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
		if c.endAll() == 0 {
			fmt.Fprintf(c.out, "No session is active.\n")
		}
	case "revoke", "r":
		c.revoke(arg)
	case "status", "s":
		for _, s := range c.live() {
			c.status(s)
		}
	case "":
	default:
		fmt.Fprintf(c.out, "Type 'end' to end the session, 'revoke NAME' to take a permission back (%s), 'status' to see it.\n",
			strings.Join(revocable, ", "))
	}
}

// endAll ends every live session and returns how many there were.
func (c *console) endAll() int {
	live := c.live()
	for _, s := range live {
		// At once and side by side: no session waits for another's
		// goodbye to the relay, and the terminal stays responsive.
		go s.end("ended by the end user")
	}
	return len(live)
}

// revocable lists what "revoke" accepts.
var revocable = []string{protocol.CapShell, protocol.CapFiles, protocol.CapFilesTo, protocol.CapFilesFrom, protocol.CapClipboard}

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
	live := c.live()
	granted := make([]string, 0, len(live))
	for _, s := range live {
		granted = append(granted, orNothing(strings.Join(s.grantedCaps(), ", ")))
	}
	matched := false
	for _, s := range live {
		if s.revoke(caps) {
			matched = true
		}
	}
	if !matched {
		slices.Sort(granted)
		fmt.Fprintf(c.out, "Nothing revoked: %s is not granted. Granted now: %s.\n",
			strings.Join(caps, ", "), orNothing(strings.Join(slices.Compact(granted), "; ")))
	}
}

// find returns the live session with this ID, or nil.
func (c *console) find(id string) *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	for s := range c.sessions {
		if s.info.ID == id {
			return s
		}
	}
	return nil
}

// live returns the sessions currently running.
func (c *console) live() []*session {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]*session, 0, len(c.sessions))
	for s := range c.sessions {
		out = append(out, s)
	}
	return out
}

// askConsent shows the prompt and waits for one line, or refuses on timeout.
func (c *console) askConsent(ctx context.Context, req consent.Request, timeout time.Duration) consent.Decision {
	c.start(ctx)
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

// sessionStarted shows the status line and registers s for "end".
func (c *console) sessionStarted(s *session) {
	c.mu.Lock()
	c.sessions[s] = true
	c.mu.Unlock()
	c.status(s)
}

// status prints the status line of s: who, what is granted, which keys.
func (c *console) status(s *session) {
	who := sanitize.Display(s.info.TechName, 60) + " (" + sanitize.Display(s.info.TechUser, 40) + ")"
	fmt.Fprintf(c.out, "\n● Session active: %s may use: %s (recorded). Type 'end' to end it, 'revoke NAME' (e.g. 'revoke files:from-device') to take one back.\n",
		who, sanitize.Display(orNothing(strings.Join(s.grantedCaps(), ", ")), 80))
}

// notice tells the end user what is happening (a file moving, the
// clipboard read). The text must already be sanitized.
func (c *console) notice(format string, args ...any) {
	fmt.Fprintf(c.out, "  "+format+"\n", args...)
}

// sessionEnded unregisters s and tells the end user why it ended and,
// truthfully, what became of the screen lock (nil: the session reused a
// parent's consent, and the parent locks when it ends).
func (c *console) sessionEnded(s *session, reason string, lock *lockResult) {
	c.mu.Lock()
	had := c.sessions[s]
	delete(c.sessions, s)
	c.mu.Unlock()
	if !had {
		return
	}
	fmt.Fprintf(c.out, "\n○ Session ended: %s.\n", sanitize.Display(reason, 200))
	c.lockResult(lock)
}

// lockResult tells the end user what became of a screen lock.
func (c *console) lockResult(lock *lockResult) {
	switch {
	case lock == nil:
		fmt.Fprintf(c.out, "  The screen will be locked when the session this one belonged to ends.\n")
	case lock.err == nil:
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
