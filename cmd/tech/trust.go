package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/tech"
	"github.com/tether-support/tether/internal/trust"
)

func newTrustCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trust",
		Short: "The organisation trust root: administrator keys the relay never holds",
		Example: `  tech trust init --threshold 2 --passphrase-file ~/admin.pass
  tech trust show`,
		Long: `trust manages the organisation's trust root: the administrators' signing keys
(hybrid Ed25519 + ML-DSA-65, each kept encrypted with a passphrase in this
config directory, never uploaded) and how many of them must sign. The public
root is published through the relay and pinned by agents; the relay cannot
change it. Passphrases come from --passphrase-file or the terminal, never argv.`,
	}
	cmd.AddCommand(newTrustInitCmd(g), newTrustShowCmd(g), newTrustKeyCmd(g), newTrustAddAdminCmd(g), newTrustRemoveAdminCmd(g),
		newTrustSignCmd(g), newTrustPublishCmd(g), newTrustPinCmd(g), newTrustRevokeCmd(g))
	return cmd
}

// passphraseFlag adds --passphrase-file.
func passphraseFlag(cmd *cobra.Command, p *tech.Passphrase) {
	cmd.Flags().StringVar(&p.File, "passphrase-file", "", "read the trust key passphrase from the first line of FILE (default: ask on the terminal)")
}

func newTrustInitCmd(g *globals) *cobra.Command {
	var o tech.TrustInitOptions
	cmd := &cobra.Command{
		Use:   "init [--threshold N] [--passphrase-file FILE]",
		Short: "Create and publish the organisation's trust root",
		Long: `init makes your administrator signing key if you have none, builds the
organisation's root (your key and any --admin keys, with --threshold, default 1),
signs it and publishes it through the relay (needs trust.manage). It prints the
root's fingerprint on stdout and pins it. With --threshold above 1 the root is
written to --out for the other administrators to sign ('tech trust sign'); then
'tech trust publish' uploads it.`,
		Example: `  tech trust init --passphrase-file ~/.trust-pass
  tech trust init --threshold 2 --admin bob.pub --out root.doc`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			o.Ask = askPassphrase(cmd.ErrOrStderr())
			out, err := c.TrustInit(cmd.Context(), o)
			printTrustOutcome(cmd.OutOrStdout(), cmd.ErrOrStderr(), out)
			return err
		},
	}
	cmd.Flags().IntVar(&o.Threshold, "threshold", 1, "how many administrator keys must sign")
	cmd.Flags().StringArrayVar(&o.Admins, "admin", nil, "(ext) another administrator's public key FILE (from 'tech trust key'); repeatable")
	cmd.Flags().StringVar(&o.Out, "out", "", "(ext) write the root to FILE for more signatures instead of publishing it")
	passphraseFlag(cmd, &o.Passphrase)
	return cmd
}

func newTrustShowCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "Verify the relay's trust root; print its fingerprint",
		Long: `show fetches the relay's root chain, verifies it (from the root you pinned,
if any, following only changes its administrators signed), prints the newest
root's fingerprint SHA256:<hex> on stdout and its organisation, threshold and
administrator keys on stderr.`,
		Example: `  agent trust pin "$(tech trust show)"`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			shown, err := c.TrustShow(cmd.Context())
			if err != nil {
				return err
			}
			printTrustShown(cmd.OutOrStdout(), cmd.ErrOrStderr(), shown)
			return nil
		},
	}
}

func newTrustKeyCmd(g *globals) *cobra.Command {
	var p tech.Passphrase
	cmd := &cobra.Command{
		Use:   "key [--passphrase-file FILE]",
		Short: "(ext) Make your administrator key if needed; print its public key",
		Long: `key makes your administrator signing key (encrypted, mode 0600, in the config
directory) if you have none, and prints its public key on stdout for another
administrator's 'tech trust init --admin' or 'tech trust add-admin'.`,
		Example: `  tech trust key --passphrase-file ~/.trust-pass > bob.pub`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			p.Ask = askPassphrase(cmd.ErrOrStderr())
			pub, made, err := c.TrustKey(p)
			printMadeKey(cmd.ErrOrStderr(), made)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tech.FormatAdminKey(pub))
			return nil
		},
	}
	passphraseFlag(cmd, &p)
	return cmd
}

func newTrustAddAdminCmd(g *globals) *cobra.Command {
	var o tech.TrustAddAdminOptions
	cmd := &cobra.Command{
		Use:   "add-admin KEYFILE [--threshold N] [--out FILE]",
		Short: "(ext) Add an administrator key to the root (a root change)",
		Long: `add-admin makes a root change adding the public key in KEYFILE (from
'tech trust key') and setting the threshold (default: unchanged), signed with your
key. When your signature meets the current root's threshold it is published;
otherwise it is written to --out for the other administrators to sign
('tech trust sign'), then uploaded with 'tech trust publish'.`,
		Example: `  tech trust add-admin bob.pub --threshold 2`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			o.Key = args[0]
			o.Ask = askPassphrase(cmd.ErrOrStderr())
			out, err := c.TrustAddAdmin(cmd.Context(), o)
			printTrustOutcome(cmd.OutOrStdout(), cmd.ErrOrStderr(), out)
			return err
		},
	}
	cmd.Flags().IntVar(&o.Threshold, "threshold", 0, "the new root's threshold (default: unchanged)")
	cmd.Flags().StringVar(&o.Out, "out", "", "write the change to FILE for more signatures instead of publishing it")
	passphraseFlag(cmd, &o.Passphrase)
	return cmd
}

func newTrustSignCmd(g *globals) *cobra.Command {
	var p tech.Passphrase
	cmd := &cobra.Command{
		Use:     "sign FILE",
		Short:   "(ext) Add your signature to a root, root change, policy, revocation list or certificate in FILE",
		Example: `  tech trust sign change.doc`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			p.Ask = askPassphrase(cmd.ErrOrStderr())
			signed, err := c.TrustSign(args[0], p)
			if err != nil {
				return err
			}
			printTrustSigned(cmd.ErrOrStderr(), signed)
			return nil
		},
	}
	passphraseFlag(cmd, &p)
	return cmd
}

func newTrustPublishCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "publish FILE",
		Short:   "(ext) Publish a signed root, root change, policy, revocation list or technician certificate through the relay",
		Example: `  tech trust publish change.doc`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if issued, ok, err := c.PublishCertFile(cmd.Context(), args[0]); ok {
				if issued != nil {
					printCertIssued(cmd.OutOrStdout(), cmd.ErrOrStderr(), issued)
				}
				return err
			}
			kind, kerr := tech.DocumentKind(args[0])
			if kerr == nil && kind == trust.KindPolicy {
				pub, err := c.PolicyPublish(cmd.Context(), args[0])
				printPolicyOutcome(cmd.ErrOrStderr(), tech.PolicyOutcome{Published: pub})
				return err
			}
			if kerr == nil && kind == trust.KindRevocation {
				pub, err := c.RevocationsPublish(cmd.Context(), args[0])
				printRevokeOutcome(cmd.ErrOrStderr(), tech.RevokeOutcome{Published: pub})
				return err
			}
			pub, err := c.TrustPublish(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			printPublished(cmd.OutOrStdout(), cmd.ErrOrStderr(), pub)
			return nil
		},
	}
}

func newTrustPinCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "pin SHA256:<hex>",
		Short:   "(ext) Pin your organisation's trust root for this tech",
		Example: `  tech trust pin SHA256:0f1e…`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			return c.TrustPin(args[0])
		},
	}
}
