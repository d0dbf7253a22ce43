package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// prompter reads passwords and tokens: from standard input when a
// --password-stdin flag says so, else from the terminal without echo.
// Secrets never come from the command line.
type prompter struct {
	in     *os.File
	stderr io.Writer // for the prompts
}

// newPrompter reads from the process's standard input and prompts on cmd's
// stderr.
func newPrompter(cmd *cobra.Command) prompter {
	return prompter{in: os.Stdin, stderr: cmd.ErrOrStderr()}
}

// password reads one line from standard input (fromStdin) or asks on the
// terminal with prompt.
func (p prompter) password(fromStdin bool, prompt string) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(p.in).ReadString('\n')
		if err != nil && line == "" {
			return "", errors.New("--password-stdin: no password on standard input")
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	return p.secret(prompt)
}

// reauth reads the current password for a change of second factor.
func (p prompter) reauth(fromStdin bool) (string, error) {
	if fromStdin {
		ls, err := p.lines(1)
		if err != nil {
			return "", errors.New("--password-stdin: no password on standard input")
		}
		return ls[0], nil
	}
	return p.secret("Password (to confirm it is you): ")
}

// passwords returns the current and the new password: two lines of
// standard input (fromStdin), else asked on the terminal, the new one twice.
func (p prompter) passwords(fromStdin bool) (cur, next string, err error) {
	if fromStdin {
		ls, err := p.lines(2)
		if err != nil {
			return "", "", errors.New("--password-stdin: give the current and the new password on two lines")
		}
		return ls[0], ls[1], nil
	}
	if cur, err = p.secret("Current password: "); err != nil {
		return "", "", err
	}
	if next, err = p.secret("New password: "); err != nil {
		return "", "", err
	}
	again, err := p.secret("New password again: ")
	if err != nil {
		return "", "", err
	}
	if again != next {
		return "", "", errors.New("the new passwords do not match")
	}
	return cur, next, nil
}

// lines reads n lines from standard input, without line endings.
func (p prompter) lines(n int) ([]string, error) {
	rd := bufio.NewReader(p.in)
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

// secret asks for a secret on the terminal without echo.
func (p prompter) secret(prompt string) (string, error) {
	fd := int(p.in.Fd())
	if !term.IsTerminal(fd) {
		return "", errors.New("no terminal to ask for the password; pipe it in with --password-stdin")
	}
	fmt.Fprint(p.stderr, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(p.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}
