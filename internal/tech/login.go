package tech

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"golang.org/x/term"

	"tether/internal/api"
	"tether/internal/protocol"
	"tether/internal/sanitize"
	"tether/internal/tlsconf"
	"tether/internal/transport"
)

// LoginOptions are the flags of `tech login`.
type LoginOptions struct {
	Relay         string
	User          string
	PasswordStdin bool
	TOTP          string
	Pin           string // --ca-fingerprint
}

// Login signs in and stores the token (mode 0600) and the relay pin. With no
// pin given or stored, the relay's key is trusted on first use and pinned.
func (c *Client) Login(ctx context.Context, o LoginOptions) error {
	relay, err := transport.ParseRelayURL(o.Relay)
	if err != nil {
		return err
	}
	pin, err := c.loginPin(relay, o.Pin)
	if err != nil {
		return err
	}
	pw, err := c.readPassword(o.PasswordStdin, "Password for "+o.User+": ")
	if err != nil {
		return err
	}
	firstUse := ""
	ep := transport.Endpoint{URL: relay, Pin: pin, OnFirstUse: func(fp string) { firstUse = fp }}
	var resp api.LoginResponse
	body := api.LoginRequest{Username: o.User, Password: pw, TOTP: o.TOTP}
	if err := doJSON(ctx, ep, http.MethodPost, protocol.PathLogin, nil, body, &resp); err != nil {
		return err
	}
	if firstUse != "" {
		pin = firstUse
		fmt.Fprintf(c.Stderr, "tech: warning: trusting the relay's key on first use: %s\ntech: hint: compare it with the fingerprint `relay init` printed; it is now pinned in %s\n", pin, c.Home)
	}
	c.st = &state{Relay: relay, Pin: pin, Username: resp.Username}
	if err := c.saveState(); err != nil {
		return err
	}
	if err := c.saveToken(resp.Token); err != nil {
		return err
	}
	fmt.Fprintf(c.Stderr, "Signed in to %s as %s.\n", relay, sanitize.Display(resp.Username, 64))
	if resp.MustChangePassword {
		fmt.Fprintf(c.Stderr, "Your password must be changed now: run `tech passwd`.\n")
	}
	return nil
}

// loginPin chooses the pin: the flag, else the one stored for this relay.
func (c *Client) loginPin(relay, flag string) (string, error) {
	if flag != "" {
		return tlsconf.ParseFingerprint(flag)
	}
	if c.st != nil && c.st.Relay == relay {
		return c.st.Pin, nil
	}
	return "", nil
}

// readPassword reads one line from stdin (--password-stdin) or asks on the
// terminal without echo. Passwords are never taken from the command line.
func (c *Client) readPassword(fromStdin bool, prompt string) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(c.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", errors.New("--password-stdin: no password on standard input")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	if !term.IsTerminal(int(c.Stdin.Fd())) {
		return "", errors.New("no terminal to ask for the password; pipe it in with --password-stdin")
	}
	fmt.Fprint(c.Stderr, prompt)
	b, err := term.ReadPassword(int(c.Stdin.Fd()))
	fmt.Fprintln(c.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}

// Logout ends the token on the relay and deletes it locally. A token the
// relay no longer knows is still deleted locally.
func (c *Client) Logout(ctx context.Context) error {
	err := c.call(ctx, http.MethodPost, protocol.PathLogout, nil, nil, nil)
	var he *transport.HTTPError
	if err != nil && !(errors.As(err, &he) && he.Status == http.StatusUnauthorized) {
		return err
	}
	if rerr := os.Remove(c.tokenPath()); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		return rerr
	}
	fmt.Fprintln(c.Stderr, "Signed out.")
	return nil
}
