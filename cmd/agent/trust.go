package main

import (
	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/agent"
	"github.com/tether-support/tether/internal/cli"
)

func newTrustCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "trust", Short: "The organisation trust root this device pins",
		Example: "  agent trust show\n  agent trust pin SHA256:0f1e…"}
	show := &cobra.Command{
		Use:   "show",
		Short: "Print the pinned trust root's fingerprint",
		Long: `show prints the fingerprint (SHA256:<hex>) of the organisation trust root
this device pinned, on stdout, and on stderr the highest signed policy and
revocation list versions it accepted; with none pinned it says so on stderr.`,
		Example: `  agent trust show`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.agentConfig()
			if err != nil {
				return err
			}
			return agent.TrustShow(cfg, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	pin := &cobra.Command{
		Use:   "pin SHA256:<hex>",
		Short: "Pin the organisation's trust root on a device enrolled before it existed",
		Long: `pin records the organisation trust root's fingerprint (from 'tech trust show')
on a device that pins none. At its next connection the agent fetches the relay's
root chain and refuses the relay unless the chain verifies from this root; from
then on it follows only root changes signed by the pinned administrators. A pin
that exists is never replaced by this command.`,
		Example: `  agent trust pin SHA256:0f1e…`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.agentConfig()
			if err != nil {
				return err
			}
			if err := agent.TrustPin(cfg, args[0]); err != nil {
				return err
			}
			cmd.PrintErrln("Trust root pinned; it is checked against the relay at the next connection.")
			return nil
		},
	}
	cmd.AddCommand(show, pin)
	return cmd
}
