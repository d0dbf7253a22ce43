package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/agent"
)

func newJoinCmd(g *globals) *cobra.Command {
	var o agent.JoinOptions
	cmd := &cobra.Command{
		Use:   "join CODE --relay URL [--ca-fingerprint SHA256:<hex>]",
		Short: "Join one attended session with the code the technician gave you",
		Long: `join connects this terminal to the technician who gave you CODE, asks for
your consent, serves that one session, and exits. Ctrl-C ends the session at
once; the screen is locked when it ends.`,
		Example: `  agent join ABCDE-FGHJK --relay https://relay.example:8443 --ca-fingerprint SHA256:…`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Code = args[0]
			o.OnFirstUse = func(fp string) {
				fmt.Fprintf(cmd.ErrOrStderr(), "agent: warning: relay fingerprint not given; trusting %s for this session\n", fp)
			}
			cfg, closeLog, err := g.servingConfig()
			if err != nil {
				return err
			}
			defer closeLog()
			reason, err := agent.Join(cmd.Context(), cfg, o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Session ended: %s\n", reason)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Relay, "relay", "", "relay URL, https://HOST:PORT (required)")
	f.StringVar(&o.Pin, "ca-fingerprint", "", "relay certificate fingerprint SHA256:<hex>")
	cmd.MarkFlagRequired("relay")
	sessionFlags(cmd, g)
	return cmd
}
