package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
)

func newEmergencyLoginCmd(g *globals) *cobra.Command {
	var relay, pin string
	cmd := &cobra.Command{
		Use:   "emergency-login --relay URL --ca-fingerprint SHA256:<hex> < token",
		Short: "Sign in with a break-glass token from `relay emergency-access`",
		Long: `emergency-login reads a token printed by 'relay emergency-access' on the
relay host from standard input and uses it as this config's sign-in. It grants
superadmin permissions until it expires (at most 60 minutes); every call is
audited with the reason given. It does not bypass the end user's consent to a
session. The relay's fingerprint is required (or the one already pinned).`,
		Example: `  relay emergency-access --data /var/lib/tether --reason "INC-99: all admins locked out" > etoken
  tech emergency-login --relay https://relay.example:8443 --ca-fingerprint SHA256:3f… < etoken`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			token := func() (string, error) {
				ls, err := newPrompter(cmd).lines(1)
				if err != nil || !strings.HasPrefix(ls[0], "tt_") {
					return "", errors.New("give the token `relay emergency-access` printed on standard input")
				}
				return ls[0], nil
			}
			r, err := c.EmergencyLogin(cmd.Context(), relay, pin, token)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Emergency access to %s: every call is audited with the reason given. End it with `tech logout`.\n", r)
			return nil
		},
	}
	cmd.Flags().StringVar(&relay, "relay", "", "relay URL, https://HOST:PORT (required)")
	cmd.Flags().StringVar(&pin, "ca-fingerprint", "", "relay certificate fingerprint, SHA256:<hex>")
	cmd.MarkFlagRequired("relay")
	return cmd
}
