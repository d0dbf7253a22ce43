package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
)

func newRolesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "roles",
		Example: "  tech roles create no-unattended --deny session.unattended\n  tech users grant bob no-unattended",
		Short:   "List and define roles (needs role.manage)",
		Long: `roles lists the built-in roles (superadmin, admin, technician, auditor) and
defines custom ones. A role has an allow list and a deny list of permissions
(or wildcards such as session.*); a user's permissions are the union of the
allows of all their roles minus the union of the denies, so a deny always wins.`,
	}
	var asJSON bool
	list := &cobra.Command{
		Use:     "list [--json]",
		Short:   "List built-in and custom roles",
		Example: `  tech roles list --json | jq '.[] | {name, effective}'`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			rs, err := c.Roles(cmd.Context())
			if err != nil {
				return err
			}
			return printRoles(cmd.OutOrStdout(), rs, asJSON)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	var allow, deny []string
	var desc string
	create := &cobra.Command{
		Use:   "create NAME [--allow PERM,...] [--deny PERM,...] [--description TEXT]",
		Short: "Create or replace a custom role (it may allow only what you hold)",
		Example: `  tech roles create no-unattended --deny session.unattended
  tech roles create helpdesk --allow session.start,session.attended --description "walk-in support"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			r, err := c.PutRole(cmd.Context(), args[0], allow, deny, desc)
			if err != nil {
				return err
			}
			printRoleSaved(cmd.ErrOrStderr(), r)
			return nil
		},
	}
	create.Flags().StringSliceVar(&allow, "allow", nil, "permissions the role grants")
	create.Flags().StringSliceVar(&deny, "deny", nil, "permissions the role takes away from every holder, whatever their other roles")
	create.Flags().StringVar(&desc, "description", "", "free text shown to administrators")
	del := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a custom role; its holders lose it and are signed out",
		Example: `  tech roles delete helpdesk`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if err := c.DeleteRole(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Role %s deleted; its holders were signed out.\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, create, del)
	return cmd
}
