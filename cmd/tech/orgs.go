package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/sanitize"
)

func newOrgsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "orgs",
		Example: "  tech orgs create icu\n  tech orgs add-member icu alice\n  tech policy set --org icu --min-length 16",
		Short:   "List and create organisations, and manage their members",
		Long: `orgs manages organisations. Each has its own policy ('tech policy set
--org'); a user may belong to several and gets the strictest setting of each.
Administrators administer the users of the organisations they belong to.`,
	}
	var asJSON bool
	list := &cobra.Command{
		Use:     "list [--json]",
		Short:   "List your organisations (every one for a superadmin)",
		Example: `  tech orgs list`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			orgs, err := c.Orgs(cmd.Context())
			if err != nil {
				return err
			}
			return printOrgs(cmd.OutOrStdout(), orgs, asJSON)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	create := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create an organisation with the default policy (needs policy.manage); you join it",
		Example: `  tech orgs create icu`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if err := c.CreateOrg(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Organisation %s created with the default policy; you are a member.\n", args[0])
			return nil
		},
	}
	add := &cobra.Command{
		Use:     "add-member ORG USER",
		Short:   "Put a user into an organisation (needs user.manage)",
		Example: `  tech orgs add-member icu alice`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if err := c.AddMember(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s is now a member of %s; the strictest policy of their organisations applies.\n", sanitize.Display(args[1], 64), args[0])
			return nil
		},
	}
	remove := &cobra.Command{
		Use:     "remove-member ORG USER",
		Short:   "Take a user out of an organisation (they keep at least one)",
		Example: `  tech orgs remove-member icu alice`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if err := c.RemoveMember(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s is no longer a member of %s.\n", sanitize.Display(args[1], 64), args[0])
			return nil
		},
	}
	cmd.AddCommand(list, create, add, remove)
	return cmd
}
