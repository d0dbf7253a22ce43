package main

import (
	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/agent"
	"github.com/tether-support/tether/internal/cli"
)

func newRunCmd(g *globals) *cobra.Command {
	var rePin string
	cmd := &cobra.Command{
		Use:   "run [--consent-cmd CMD] [--lock-cmd CMD]",
		Short: "Stay connected and serve sessions",
		Long: `run keeps this enrolled device connected to its relay (reconnecting with
backoff) and serves every session offered. Each session is shown to the end
user for consent on this terminal, through --consent-cmd, or, with neither a
terminal nor --consent-cmd but a DISPLAY, in a window on that X display (Allow /
Deny, a checkbox per capability). While a session is
active, typing 'end' and Enter here ends it at once. Every session end kills
the session's processes and locks the screen (--lock-cmd, else the platform's
methods in turn; on Linux xscreensaver-command -lock when DISPLAY is set, the
freedesktop and GNOME D-Bus screen savers, loginctl, xdg-screensaver). The
result, "screen locked (METHOD)" or "screen lock FAILED: REASON", is told to
you, to the technician and to the relay's audit log.

SIGINT or SIGTERM ends every live session and locks the screen (within 30 s)
before exiting. If the agent is killed mid-session, the next start locks the
screen and reports it.

The relay's certificate is pinned at enrollment. When the relay rotates it
(relay cert rotate), the agent learns the next pin while connected and follows
the switch by itself. An agent that was not connected during the rotation is
refused with "the relay's certificate changed"; once the relay's operator
confirms the new fingerprint, --ca-fingerprint replaces the stored pin.

This terminal shows only the consent prompt, the session banner and notices
meant for you. The agent's log goes to agent.log in its config directory
(--log-file to choose another file), and with --verbose to this terminal too;
when stderr is not a terminal (a service's journal, a pipe) the log is written
there as well.`,
		Example: `  agent run
  agent run --consent-cmd 'zenity --question --text "$TETHER_TECH wants: $TETHER_CAPABILITIES (code $TETHER_SECURITY_CODE)"'
  agent run --lock-cmd 'physlock -d'
  agent run --ca-fingerprint SHA256:<hex>    # re-pin after a certificate rotation this device missed
  agent run --verbose --log-format json`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, closeLog, err := g.servingConfig()
			if err != nil {
				return err
			}
			defer closeLog()
			cfg.RePin = rePin
			a, err := agent.New(cfg)
			if err != nil {
				return err
			}
			return a.Run(cmd.Context())
		},
	}
	sessionFlags(cmd, g)
	cmd.Flags().StringVar(&rePin, "ca-fingerprint", "", "replace the stored relay pin with SHA256:<hex> (confirmed with the relay's operator) before connecting")
	return cmd
}
