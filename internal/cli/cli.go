// Package cli holds what the three command-line programs share: how errors
// and hints are printed, exit statuses, and where the config directory is.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tlsconf"
	"github.com/tether-support/tether/internal/transport"
)

// ExitCoder is an error that carries the process exit status.
type ExitCoder interface {
	error
	ExitCode() int
}

// Main runs root with a context cancelled by SIGINT/SIGTERM, prints any
// error as "NAME: error: …" (and "NAME: hint: …") on stderr, and returns the
// exit status: 0, the status an ExitCoder carries, or 1.
func Main(name string, root *cobra.Command, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer startProfile(name)()
	Prepare(name, root)
	root.SilenceErrors, root.SilenceUsage = true, true
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ec ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	// An error may carry what a peer sent (a relay's refusal, a device's
	// error, an end reason): it is made inert before it reaches a terminal.
	fmt.Fprintf(stderr, "%s: error: %s\n", name, sanitize.Display(err.Error(), 0))
	if h := Hint(err); h != "" {
		fmt.Fprintf(stderr, "%s: hint: %s\n", name, sanitize.Display(h, 0))
	}
	return 1
}

// Hint returns advice for errors that carry some.
func Hint(err error) string {
	var he *transport.HTTPError
	var re *transport.RemoteError
	var pe *tlsconf.PinError
	var hinter interface{ Hint() string }
	switch {
	case errors.As(err, &he):
		return he.Hint
	case errors.As(err, &re):
		return re.Hint
	case errors.As(err, &pe):
		return "if the relay's operator rotated its certificate while this client was not connected (relay cert rotate), " +
			"confirm the new fingerprint with them and pass it with --ca-fingerprint (tech login; agent run); otherwise do not connect"
	case errors.As(err, &hinter):
		return hinter.Hint()
	}
	return ""
}

// Home returns the config directory: the flag, else the environment
// variable, else ~/.config/<sub>.
func Home(flag, env, sub string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	if dir, err := os.UserConfigDir(); err == nil {
		return filepath.Join(dir, sub)
	}
	return filepath.Join(".", "."+sub)
}

// NoArgs is cobra.NoArgs with a clearer message.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected argument %q (see `%s --help`)", args[0], cmd.CommandPath())
	}
	return nil
}
