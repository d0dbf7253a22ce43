package main

import (
	"github.com/spf13/cobra"

	"tether/internal/agent"
	"tether/internal/cli"
)

func newRunCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run [--consent-cmd CMD] [--lock-cmd CMD]",
		Short: "Stay connected and serve sessions",
		Long: `run keeps this enrolled device connected to its relay (reconnecting with
backoff) and serves every session offered. Each session is shown to the end
user for consent on this terminal, or through --consent-cmd. While a session is
active, typing 'end' and Enter here ends it at once. Every session end kills
the session's processes and locks the screen (--lock-cmd, else the platform's
lock).`,
		Example: `  agent run
  agent run --consent-cmd 'zenity --question --text "$TETHER_TECH wants: $TETHER_CAPABILITIES (code $TETHER_SECURITY_CODE)"'`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := agent.New(g.agentConfig())
			if err != nil {
				return err
			}
			return a.Run(cmd.Context())
		},
	}
	sessionFlags(cmd, g)
	return cmd
}
