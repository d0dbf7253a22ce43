package main

import (
	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/tech"
)

func newAuditCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "The relay's tamper-evident audit log",
		Example: "  tech audit search --action login --outcome failure --since 2026-01-01T00:00:00Z\n  tech audit export > audit.jsonl\n  tech audit verify audit.jsonl"}
	var format, since string
	export := &cobra.Command{
		Use:   "export [--format jsonl|csv] [--since TIME]",
		Short: "Write the audit log to stdout",
		Long: `export writes the audit log as JSON Lines (with the hash-chain fields, so
the file can be verified offline) or CSV. --since takes an RFC 3339 time.`,
		Example: `  tech audit export > audit.jsonl
  tech audit export --format csv --since 2026-01-01T00:00:00Z > audit.csv`,
		Args: cli.NoArgs,
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			unverified, err := c.AuditExport(cmd.Context(), cmd.OutOrStdout(), format, since)
			if err != nil {
				return err
			}
			warnUnverified(cmd.ErrOrStderr(), "export", unverified)
			return nil
		}),
	}
	export.Flags().StringVar(&format, "format", "jsonl", "jsonl or csv")
	export.Flags().StringVar(&since, "since", "", "only entries at or after this RFC 3339 time")
	cmd.AddCommand(export, newAuditVerifyCmd(g), newAuditCheckpointCmd(g), newAuditSearchCmd(g))
	return cmd
}
