package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"tether/internal/cli"
	"tether/internal/relay"
)

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Work with the audit log offline"}
	var data string
	verify := &cobra.Command{
		Use:   "verify --data DIR",
		Short: "Check the audit chain; exit 0 only when intact",
		Long: `verify walks the hash-chained audit log in DIR (the relay must be stopped, or
verify waits for its lock and fails): every entry's hash, link and MAC, and the
signed chain head, so an edit, deletion, reordering or truncation is found. It
names the first bad entry.`,
		Example: `  relay audit verify --data /var/lib/tether`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := relay.VerifyAudit(data)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "audit log intact: %d entries verified\n", n)
			return nil
		},
	}
	verify.Flags().StringVar(&data, "data", "", "data directory (required)")
	verify.MarkFlagRequired("data")
	cmd.AddCommand(verify)
	return cmd
}
