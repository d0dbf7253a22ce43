package tech

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/term"

	"tether/internal/api"
	"tether/internal/password"
	"tether/internal/protocol"
)

// Passwd changes the signed-in user's password. With fromStdin it reads the
// current and then the new password, one a line; otherwise it asks on the
// terminal without echo (the new one twice). Passwords never come from the
// command line.
func (c *Client) Passwd(ctx context.Context, fromStdin bool) error {
	cur, next, err := c.readPasswords(fromStdin)
	if err != nil {
		return err
	}
	if err := password.Check([]byte(next)); err != nil {
		return fmt.Errorf("new password rejected: %w", err)
	}
	body := api.PasswdRequest{Current: cur, New: next}
	if err := c.call(ctx, http.MethodPost, protocol.PathPasswd, nil, body, nil); err != nil {
		return err
	}
	fmt.Fprintln(c.Stderr, "Password changed. Your other sign-ins were ended.")
	return nil
}

// readPasswords returns the current and the new password.
func (c *Client) readPasswords(fromStdin bool) (cur, next string, err error) {
	if fromStdin {
		ls, err := c.stdinLines(2)
		if err != nil {
			return "", "", errors.New("--password-stdin: give the current and the new password on two lines")
		}
		return ls[0], ls[1], nil
	}
	if cur, err = c.askSecret("Current password: "); err != nil {
		return "", "", err
	}
	if next, err = c.askSecret("New password: "); err != nil {
		return "", "", err
	}
	again, err := c.askSecret("New password again: ")
	if err != nil {
		return "", "", err
	}
	if again != next {
		return "", "", errors.New("the new passwords do not match")
	}
	return cur, next, nil
}

// stdinLines reads n lines from standard input, without line endings.
func (c *Client) stdinLines(n int) ([]string, error) {
	rd := bufio.NewReader(c.Stdin)
	out := make([]string, 0, n)
	for range n {
		line, err := rd.ReadString('\n')
		if err != nil && line == "" {
			return nil, err
		}
		out = append(out, strings.TrimRight(line, "\r\n"))
	}
	return out, nil
}

// askSecret asks for a secret on the terminal without echo.
func (c *Client) askSecret(prompt string) (string, error) {
	fd := int(c.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return "", errors.New("no terminal to ask for the password; pipe it in with --password-stdin")
	}
	fmt.Fprint(c.Stderr, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(c.Stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}
