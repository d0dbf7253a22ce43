package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/tech"
)

func newTrustRevokeCmd(g *globals) *cobra.Command {
	var o tech.RevokeOptions
	var yes bool
	var days int
	cmd := &cobra.Command{
		Use:   "revoke [--user NAME] [--cert ID] [--reviewer PUBKEY] [--admin KEYID] [--out FILE] [--valid-days N] [--yes]",
		Short: "(ext) Revoke technician certificates, reviewer keys or administrator keys (a signed revocation list)",
		Long: `revoke adds what you name to the relay's signed revocation list, shows what
changes, asks for confirmation (--yes skips it), signs the next version with your
administrator key and publishes it. Agents fetch the list on connect and before
every session and never accept an older version: a revoked technician is refused,
a revoked reviewer key is not accepted as a recording recipient, and a revoked
administrator key no longer counts toward the threshold. A list that revokes an
administrator key must be signed by the threshold of the other keys. When the root
needs more signatures, pass --out FILE; the other administrators run
'tech trust sign FILE', then 'tech trust publish FILE'.
--user revokes the newest certificate the relay holds for that technician; --cert
revokes one by the ID 'tech users certify' printed.`,
		Example: `  tech trust revoke --user alice
  tech trust revoke --reviewer tether-rec1… --out revoke.doc`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			o.Ask = askPassphrase(cmd.ErrOrStderr())
			o.Confirm = confirmRevoke(cmd.InOrStdin(), cmd.ErrOrStderr(), yes)
			o.Valid = time.Duration(days) * 24 * time.Hour
			out, err := c.RevokeSign(cmd.Context(), o)
			printRevokeOutcome(cmd.ErrOrStderr(), out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.Users, "user", nil, "revoke the newest certificate of technician NAME (repeatable)")
	f.StringArrayVar(&o.Certs, "cert", nil, "revoke the technician certificate with this ID (hex, repeatable)")
	f.StringArrayVar(&o.Reviewers, "reviewer", nil, "revoke this recording reviewer public key (tether-rec1…, repeatable)")
	f.StringArrayVar(&o.Admins, "admin", nil, "revoke the administrator key with this key ID (hex, repeatable)")
	f.StringVar(&o.Out, "out", "", "write the list to FILE for more signatures instead of publishing it")
	f.IntVar(&days, "valid-days", 365, "days until the revocation list expires (agents then refuse sessions until a newer one is published)")
	f.BoolVar(&yes, "yes", false, "sign without asking")
	passphraseFlag(cmd, &o.Passphrase)
	return cmd
}
