package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
)

func newKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Recording identities (reviewers' keys)",
		Example: "  tech keys generate -o ~/reviewer.key"}
	var out string
	gen := &cobra.Command{
		Use:   "generate -o FILE",
		Short: "Make a new recording identity; print its public key",
		Long: `generate writes a new recording identity (a post-quantum hybrid
ML-KEM-768 + X25519 private key) to FILE with mode 0600 — it never overwrites —
and prints the public key on stdout. Give the public key to
'tech recordings recipients add'; keep FILE offline: it opens every recording
made for it.`,
		Example: `  tech keys generate -o ~/reviewer.key
  tech recordings recipients add "$(tech keys generate -o ~/reviewer.key)"`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			key, err := c.GenerateKey(out)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), key)
			fmt.Fprintf(cmd.ErrOrStderr(), "Wrote the private identity to %s (mode 0600): keep it offline and safe.\nNext: tech recordings recipients add <the public key above>\n", out)
			return nil
		},
	}
	gen.Flags().StringVarP(&out, "output", "o", "", "file for the private identity (required)")
	gen.MarkFlagRequired("output")
	cmd.AddCommand(gen)
	return cmd
}
