package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/relay"
)

func newEmergencyCmd() *cobra.Command {
	var o relay.EmergencyOptions
	cmd := &cobra.Command{
		Use:   "emergency-access --data DIR --reason TEXT [--ttl DUR]",
		Short: "Issue a time-boxed break-glass superadmin token (on the relay host)",
		Long: `emergency-access prints a superadmin token on stdout, once. Being able to
write into the relay's data directory is the credential: no network password.
The token lives --ttl (at most 60 minutes) and works while the relay runs;
every use is audited with the reason. It does not bypass the end user's consent
to a session. Use it with 'tech emergency-login'; 'tech logout' ends it early.`,
		Example: `  relay emergency-access --data /var/lib/tether --reason "INC-99: all admins locked out" > etoken`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			tok, exp, err := relay.EmergencyAccess(o)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tok)
			fmt.Fprintf(cmd.ErrOrStderr(), "Emergency superadmin token valid until %s; every use is audited with the reason.\n"+
				"Use it with: tech emergency-login --relay URL --ca-fingerprint SHA256:<hex> < token\n", exp.Local().Format(time.RFC1123))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "data", "", "the relay's data directory (required)")
	f.StringVar(&o.Reason, "reason", "", "why emergency access is needed; audited with every use (required)")
	f.DurationVar(&o.TTL, "ttl", relay.MaxEmergencyTTL, "lifetime, at most 60m")
	cmd.MarkFlagRequired("data")
	cmd.MarkFlagRequired("reason")
	return cmd
}
