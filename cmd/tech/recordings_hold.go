package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

func newRecHoldCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "hold ID [--reason TEXT]",
		Short: "Put a recording on legal hold: retention keeps it (needs recording.hold)",
		Long: `hold exempts recording ID, and its session record, from retention: the relay's
daily job deletes recordings and session records older than the policy's
retention, but never one on hold. The hold stays until 'tech recordings
release ID'. Placing and releasing a hold are audited with the reason.
'tech recordings list' shows held recordings.`,
		Example: `  tech recordings hold 3f2a… --reason "complaint 2026-114"`,
		Args:    cobra.ExactArgs(1),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			r, err := c.HoldRecording(cmd.Context(), args[0], reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Recording %s is on legal hold; retention keeps it until it is released.\n", sanitize.Display(string(r.ID), 64))
			return nil
		}),
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, such as a case or ticket number (audited; at most 200 bytes)")
	return cmd
}

func newRecReleaseCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "release ID",
		Short: "Lift a recording's legal hold (needs recording.hold)",
		Long: `release lifts the legal hold on recording ID. From then on retention treats it
like any other recording: one that ended longer ago than the policy's
retention is deleted at the next daily run. Audited.`,
		Example: `  tech recordings release 3f2a…`,
		Args:    cobra.ExactArgs(1),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			r, err := c.ReleaseRecording(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Released the legal hold on recording %s.\n", sanitize.Display(string(r.ID), 64))
			return nil
		}),
	}
}
