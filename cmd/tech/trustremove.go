package main

import (
	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/tech"
)

func newTrustRemoveAdminCmd(g *globals) *cobra.Command {
	var o tech.TrustRemoveAdminOptions
	cmd := &cobra.Command{
		Use:   "remove-admin KEYID [--threshold N] [--out FILE]",
		Short: "(ext) Remove an administrator key from the root (a root change)",
		Long: `remove-admin makes a root change removing the administrator key KEYID (as
'tech trust show' prints it, or an unambiguous prefix of at least 8 hex digits)
and setting the threshold (default: unchanged), signed with your key. It is
refused if it would leave fewer keys than the threshold. When your signature
meets the current root's threshold it is published; otherwise it is written to
--out for the other administrators to sign ('tech trust sign'), then uploaded
with 'tech trust publish'. From then on the removed key's signature counts for
nothing.`,
		Example: `  tech trust remove-admin 3f9a0c1d --threshold 1 --out change.doc`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			o.KeyID = args[0]
			o.Ask = askPassphrase(cmd.ErrOrStderr())
			out, err := c.TrustRemoveAdmin(cmd.Context(), o)
			printTrustOutcome(cmd.OutOrStdout(), cmd.ErrOrStderr(), out)
			return err
		},
	}
	cmd.Flags().IntVar(&o.Threshold, "threshold", 0, "the new root's threshold (default: unchanged)")
	cmd.Flags().StringVar(&o.Out, "out", "", "write the change to FILE for more signatures instead of publishing it")
	passphraseFlag(cmd, &o.Passphrase)
	return cmd
}
