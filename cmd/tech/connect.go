package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/tech"
)

// exitStatus makes a remote exit status the process's own.
type exitStatus struct{ code int }

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", e.code) }
func (e exitStatus) ExitCode() int { return e.code }

// connectError passes a remote command's status through, like ssh.
func connectError(err error) error {
	var ee *tech.ExitError
	if errors.As(err, &ee) {
		return exitStatus{ee.Code}
	}
	return err
}

func newConnectCmd(g *globals) *cobra.Command {
	var o connectOptions
	cmd := &cobra.Command{
		Use:   "connect DEVICE [--caps shell,files,clipboard] [-- COMMAND...]",
		Short: "Open a consented, end-to-end encrypted session with a device",
		Long: `connect asks the relay for a session with DEVICE, shows the security code,
and waits for the end user's consent. Without COMMAND you get an interactive
shell in a PTY; with COMMAND it runs there and tech exits with its exit status,
like ssh (one argument is a shell command line; several are run as they are).

The device's output is filtered on its way to your terminal: it may draw
(text, colours, cursor movement, titles) but not act on this machine. OSC 52
clipboard writes, hyperlinks, terminal reports and queries (cursor position,
device attributes, title report), DCS/APC strings and the like are removed.
The output of a COMMAND without -t that you pipe or redirect is passed byte
for byte. --raw turns the filter off, for a device you trust.

Once the end user consents, the session moves to a direct peer-to-peer path
(WebRTC) when this machine and the device can reach each other, and falls back
to the relay by itself if that path fails; the end-to-end encryption is the
same on both. "Session path: …" lines on stderr say which path is in use and
why. --path relay never tries the direct path; --path direct ends the session
if it cannot be set up. An organisation policy of direct_path deny keeps every
session on the relay.`,
		Example: `  tech connect clinic-pc-7
  tech connect clinic-pc-7 -- sh -c 'echo $((6*7))'
  tech connect clinic-pc-7 -t -- top
  tech connect clinic-pc-7 --raw -t -- fzf --height 10
  tech connect clinic-pc-7 --path relay`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Device, o.Argv = args[0], args[1:]
			return connectError(g.connect(cmd, o))
		},
	}
	connectFlags(cmd, &o)
	return cmd
}

// connectFlags adds the flags shared by connect and session new.
func connectFlags(cmd *cobra.Command, o *connectOptions) {
	f := cmd.Flags()
	f.StringSliceVar(&o.Caps, "caps", []string{"shell"}, "capabilities to ask for: shell, files (or files:to-device, files:from-device), clipboard, screen-view, screen-control")
	f.BoolVarP(&o.PTY, "tty", "t", false, "run COMMAND in a PTY")
	f.BoolVar(&o.Verify, "verify", false, "wait until you type the security code the end user reads out")
	f.StringVar(&o.Reason, "reason", "", "reason or ticket, shown to the end user and audited")
	f.DurationVar(&o.Keepalive, "keepalive", 20*time.Second, "how often to send a keepalive while idle (not counted as input)")
	f.MarkHidden("keepalive")
	f.StringVar(&o.Path, "path", tech.PathAuto, "auto: move to a direct peer-to-peer path when the device can be reached (the relay path stays the fallback); relay: never; direct: end the session if no direct path can be set up")
	f.BoolVar(&o.Raw, "raw", false, "pass the device's output unfiltered: escape sequences that act on this machine (clipboard, terminal reports) included")
}

func newSessionCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "session", Short: "Attended sessions",
		Example: "  tech session new --caps shell"}
	var o connectOptions
	n := &cobra.Command{
		Use:   "new [--caps ...] [-- COMMAND...]",
		Short: "Print a one-time join code, wait for 'agent join', then attach",
		Long: `session new asks the relay for an attended session: it prints a one-time
join code on stdout (valid 10 minutes) for the person you help to type into
'agent join', waits for them to join and consent, then attaches like connect
(the device's output is filtered the same way; --raw turns that off).`,
		Example: `  tech session new
  tech session new -- uname -a
  tech session new --raw`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Argv, o.Attended = args, true
			return connectError(g.connect(cmd, o))
		},
	}
	connectFlags(n, &o)
	cmd.AddCommand(n)
	return cmd
}
