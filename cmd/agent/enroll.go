package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/agent"
	"github.com/tether-support/tether/internal/cli"
)

func newEnrollCmd(g *globals) *cobra.Command {
	var o agent.EnrollOptions
	cmd := &cobra.Command{
		Use:   "enroll --relay URL --token TOKEN [--name NAME]",
		Short: "Register this device with the relay",
		Long: `enroll makes this device's Ed25519 key (mode 0600 in the config directory)
and registers it with the relay using a one-time token from
'tech devices enroll-token'. The token carries the relay's fingerprint, so no
prompt is needed; --ca-fingerprint overrides it.`,
		Example: `  agent enroll --relay https://relay.example:8443 --token "$(cat token)" --name clinic-pc-7`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.agentConfig()
			if err != nil {
				return err
			}
			st, err := agent.Enroll(cmd.Context(), cfg, o)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), st.DeviceID)
			fmt.Fprintf(cmd.ErrOrStderr(), "Enrolled as %q in group %q. Next: agent run\n", st.Name, st.Group)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Relay, "relay", "", "relay URL, https://HOST:PORT (required)")
	f.StringVar(&o.Token, "token", "", "one-time enrollment token (required)")
	f.StringVar(&o.Name, "name", "", "device name (default: the hostname)")
	f.StringVar(&o.Pin, "ca-fingerprint", "", "relay certificate fingerprint SHA256:<hex> (default: the one in the token)")
	cmd.MarkFlagRequired("relay")
	cmd.MarkFlagRequired("token")
	return cmd
}
