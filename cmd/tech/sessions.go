package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
)

func newSessionsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "sessions", Short: "List, show and terminate sessions",
		Example: "  tech sessions list --active\n  tech sessions show 3f2a…\n  tech sessions kill 3f2a…"}
	var active, asJSON bool
	list := &cobra.Command{
		Use:     "list [--active] [--json]",
		Short:   "List sessions (yours, or all with session.view_all)",
		Example: "  tech sessions list --active",
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			ss, err := c.Sessions(cmd.Context(), active)
			if err != nil {
				return err
			}
			return printSessions(cmd.OutOrStdout(), ss, asJSON)
		},
	}
	list.Flags().BoolVar(&active, "active", false, "only live sessions")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	show := &cobra.Command{
		Use:     "show ID",
		Short:   "Report on one session",
		Example: "  tech sessions show 3f2a…",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			s, err := c.Session(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printSession(cmd.OutOrStdout(), s)
		},
	}
	kill := &cobra.Command{
		Use:     "kill ID",
		Short:   "End a live session at once (needs session.terminate)",
		Example: "  tech sessions kill 3f2a…",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if err := c.SessionKill(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Session %s terminated.\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, show, kill)
	return cmd
}
