package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/tech"
)

func newReportsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "reports", Short: "Reports from the relay's records",
		Example: "  tech reports sessions --since 2026-01-01T00:00:00Z --until 2026-02-01T00:00:00Z --csv > january.csv"}
	var since, until string
	var asCSV, asJSON bool
	sessions := &cobra.Command{
		Use:   "sessions [--since T] [--until T] [--csv|--json]",
		Short: "Session report: who, which device, when, what was granted, files, end, recording",
		Long: `sessions prints one line per session requested in the time range (--since
inclusive, --until exclusive, RFC 3339; needs audit.read), oldest first:
technician, device, start, duration, capabilities granted, files moved, end
reason and recording ID, then every file moved with its size and SHA-256.

--csv writes one row per session for a spreadsheet (the files in one cell, a
line each); every cell is made inert: control characters are shown as markers
and a cell starting with = + - or @ gets a leading '. --json writes a JSON
array of the relay's session reports. A session that never started (refused,
no answer) has no start and a duration of 0.`,
		Example: `  tech reports sessions --since 2026-01-01T00:00:00Z --until 2026-02-01T00:00:00Z
  tech reports sessions --since 2026-01-01T00:00:00Z --csv > january.csv
  tech reports sessions --json | jq '.[] | select(.files)'`,
		Args: cli.NoArgs,
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			if asCSV && asJSON {
				return errors.New("--csv and --json exclude each other: choose one")
			}
			r, err := c.SessionReports(cmd.Context(), since, until)
			if err != nil {
				return err
			}
			if r.Truncated {
				cmd.PrintErrln("tech: warning: the report is too large for one answer; the oldest sessions are left out: narrow it with --until")
			}
			switch {
			case asCSV:
				return printReportCSV(cmd.OutOrStdout(), r.Sessions)
			case asJSON:
				return writeJSON(cmd.OutOrStdout(), r.Sessions)
			}
			return printReport(cmd.OutOrStdout(), r.Sessions)
		}),
	}
	f := sessions.Flags()
	f.StringVar(&since, "since", "", "only sessions requested at or after this RFC 3339 time")
	f.StringVar(&until, "until", "", "only sessions requested before this RFC 3339 time")
	f.BoolVar(&asCSV, "csv", false, "write CSV")
	f.BoolVar(&asJSON, "json", false, "write a JSON array")
	cmd.AddCommand(sessions)
	return cmd
}
