package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"tether/internal/consent"
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

// read dispatches each typed line.
func (c *console) read(ctx context.Context) {
	sc := bufio.NewScanner(c.in)
	for sc.Scan() {
		line := sc.Text()
		c.mu.Lock()
		asking := c.asking
		c.mu.Unlock()
		if asking {
			select {
			case c.lines <- line:
			case <-ctx.Done():
				return
			}
			continue
		}
		c.command(strings.TrimSpace(strings.ToLower(line)))
	}
}

// command handles a line typed outside a prompt.
func (c *console) command(cmd string) {
	word, arg, _ := strings.Cut(cmd, " ")
	switch word {
	case "end", "e", "q", "quit", "stop":
		for _, s := range c.live() {
			s.end("ended by the end user")
		}
	case "revoke", "r":
		caps := strings.FieldsFunc(arg, func(r rune) bool { return r == ',' || r == ' ' })
		if len(caps) == 0 {
			fmt.Fprintf(c.out, "Say what to revoke, e.g. 'revoke files' or 'revoke clipboard'.\n")
			return
		}
		for _, s := range c.live() {
			s.revoke(caps)
		}
	case "status", "s":
		for _, s := range c.live() {
			c.status(s)
		}
	case "":
	default:
		fmt.Fprintf(c.out, "Type 'end' to end the session, 'revoke files' (or clipboard) to take a permission back, 'status' to see it.\n")
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
	fmt.Fprintf(c.out, "\n● Session active: %s may use: %s (recorded). Type 'end' to end it, 'revoke files' or 'revoke clipboard' to take one back.\n",
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
