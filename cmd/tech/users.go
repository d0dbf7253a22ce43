package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

func newUsersCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "users",
		Example: "  tech users add alice --role technician > alice.pw\n  tech users list --json\n  tech users unlock alice",
		Short:   "Manage user accounts (needs user.manage)",
		Long: `users manages the accounts of your organisations. An administrator of an
organisation manages its users; the service's superadmin manages administrator
accounts and accounts holding permissions beyond the admin role (auditors).
Nobody manages an account holding a permission they lack themselves, or one
that belongs to an organisation (or reaches a device group) they do not: whoever
resets a password can sign in as its owner.`,
	}
	cmd.AddCommand(newUsersAddCmd(g), newUsersListCmd(g), newUsersResetCmd(g),
		newUserActionCmd(g, "unlock", "unlocked", "Unlock an account locked after failed sign-ins"),
		newUserActionCmd(g, "disable", "disabled; their sign-ins and live sessions were ended", "Disable an account at once, ending its sign-ins and sessions"),
		newUserActionCmd(g, "enable", "enabled", "Enable a disabled account"), newUsersDeleteCmd(g),
		newUsersApproveCmd(g), newUsersGrantCmd(g), newUsersRevokeCmd(g), newUsersGroupsCmd(g),
		newUsersEmailCmd(g), newUsersResetMFACmd(g), newUsersCertifyCmd(g))
	return cmd
}

func newUsersAddCmd(g *globals) *cobra.Command {
	var o tech.AddUserOptions
	cmd := &cobra.Command{
		Use:   "add NAME --role ROLE [--email ADDR] [--org ORG] [--group G]...",
		Short: "Create a user; prints a one-time temporary password on stdout",
		Long: `add creates a user in your organisation (or --org) and prints a temporary
password on stdout. It is already expired: after signing in with it only
'tech passwd' works. Usernames are unique ignoring case and width (Admin is
admin); names mixing scripts (a Cyrillic а in "admin") are refused. If you
cannot grant ROLE yourself, the account is created pending until an
administrator who can runs 'tech users approve NAME' (for a role beyond admin,
such as auditor, the service superadmin); nothing is printed on stdout then:
the approver receives the temporary password. Names that look like an
existing user's name (Unicode confusables: Cyrillic "аdmin", "r00t" for
"root") are refused.`,
		Example: `  tech users add alice --role technician --email alice@clinic.example > alice.pw
  tech users add bob --role technician --group front-desk`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			o.Name = args[0]
			resp, err := c.AddUser(cmd.Context(), o)
			if err != nil {
				return err
			}
			printUserAdded(cmd.OutOrStdout(), cmd.ErrOrStderr(), resp, o.Role)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Role, "role", "", "role: superadmin, admin, technician, auditor or a custom role (required)")
	f.StringVar(&o.Email, "email", "", "email address (optional)")
	f.StringVar(&o.Org, "org", "", "organisation (default: your first)")
	f.StringSliceVar(&o.Groups, "group", nil, "limit unattended sessions to devices of this group (repeatable)")
	cmd.MarkFlagRequired("role")
	return cmd
}

func newUsersListCmd(g *globals) *cobra.Command {
	var asJSON, all bool
	cmd := &cobra.Command{
		Use:   "list [--json] [--all]",
		Short: "List the users of your organisations, with their last sign-in",
		Long: `list shows the accounts of your organisations (every account for a
superadmin; for an administrator limited to device groups, their own and those
limited to some of their groups): username, state, roles, organisations, MFA,
failed sign-ins, last sign-in and ID. --all adds deleted accounts, whose IDs
the audit log keeps.`,
		Example: `  tech users list
  tech users list --json | jq -r '.[] | select(.state=="locked") | .username'
  tech users list --all --json | jq -r '.[] | select(.state=="deleted") | .id+" "+.username'`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			us, err := c.ListUsers(cmd.Context(), all)
			if err != nil {
				return err
			}
			return printUsers(cmd.OutOrStdout(), us, asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&all, "all", false, "include deleted accounts")
	return cmd
}

func newUsersDeleteCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete an account: no sign-in, sign-ins and sessions ended, audit history kept",
		Long: `delete removes an account for good: it can no longer sign in, its sign-ins are
revoked and its live sessions end at once. Its password, second factor and email
address are erased; its ID and name stay, so old audit entries still name it
('tech users list --all' shows it as deleted), and the name cannot be given to
a new account. You cannot delete your own account or the last superadmin.
Use 'tech users disable' for an account that may come back.`,
		Example: `  tech users delete bob`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if err := c.DeleteUser(cmd.Context(), args[0]); err != nil {
				return err
			}
			userDone(cmd.ErrOrStderr(), args[0], "deleted; their sign-ins and live sessions were ended")
			return nil
		},
	}
}

func newUsersResetCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reset-password NAME",
		Short: "Give a user a new temporary password (printed on stdout)",
		Long: `reset-password replaces a user's password with a temporary one, printed on
stdout, that must be changed at the next sign-in. It also clears failed
sign-ins (unlocking the account) and ends the user's sign-ins.`,
		Example: `  tech users reset-password alice > alice.pw`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			resp, err := c.ResetPassword(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), sanitize.Display(resp.TemporaryPassword, 128))
			fmt.Fprintf(cmd.ErrOrStderr(), "New temporary password for %s above; it must be changed at the next sign-in. Their sign-ins were ended.\n", sanitize.Display(args[0], 64))
			return nil
		},
	}
}

// newUserActionCmd builds one of unlock, disable, enable and approve.
func newUserActionCmd(g *globals, action, done, short string) *cobra.Command {
	return &cobra.Command{
		Use:     action + " NAME",
		Short:   short,
		Example: "  tech users " + action + " alice",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if err := c.UserAction(cmd.Context(), args[0], action); err != nil {
				return err
			}
			userDone(cmd.ErrOrStderr(), args[0], done)
			return nil
		},
	}
}

func newUsersGrantCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "grant NAME ROLE",
		Short: "Give a user a role (you must hold every permission it grants)",
		Long: `grant adds a role to a user. Effective permissions are the union of every
role's allows minus the union of every role's denies: a deny always wins.`,
		Example: `  tech users grant alice auditor`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if err := c.Grant(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			userDone(cmd.ErrOrStderr(), args[0], "now holds role "+args[1])
			return nil
		},
	}
}

func newUsersRevokeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "revoke NAME ROLE",
		Short:   "Take a role from a user, ending their sign-ins and live sessions at once",
		Example: `  tech users revoke alice technician`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if err := c.Revoke(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Role %s taken from %s; their sign-ins and live sessions were ended.\n", args[1], sanitize.Display(args[0], 64))
			return nil
		},
	}
}

func newUsersGroupsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "groups NAME [GROUP...]",
		Short: "Limit a user's unattended sessions to devices of these groups (none: no limit)",
		Example: `  tech users groups bob front-desk radiology
  tech users groups bob        # no limit`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if err := c.SetGroups(cmd.Context(), args[0], args[1:]); err != nil {
				return err
			}
			if len(args) == 1 {
				userDone(cmd.ErrOrStderr(), args[0], "may reach devices of every group")
			} else {
				userDone(cmd.ErrOrStderr(), args[0], "may reach devices of groups "+strings.Join(args[1:], ", ")+" only")
			}
			return nil
		},
	}
}

func newUsersApproveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "approve NAME",
		Short: "Approve a pending account; prints its temporary password on stdout",
		Long: `approve activates an account created pending by an administrator who could not
grant its role. You must hold every permission the account's roles grant. Its
temporary password is printed on stdout, to you only: the account's creator
never learns it.`,
		Example: `  tech users approve carol > carol.pw`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			resp, err := c.Approve(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), sanitize.Display(resp.TemporaryPassword, 128))
			userDone(cmd.ErrOrStderr(), args[0], "approved. Give them the temporary password above; it must be changed at the first sign-in")
			return nil
		},
	}
}

func newUsersEmailCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "email NAME [ADDR]",
		Short: "Set a user's email address (none: clear it)",
		Example: `  tech users email alice alice@clinic.example
  tech users email alice        # no address`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			addr := ""
			if len(args) == 2 {
				addr = args[1]
			}
			if err := c.SetEmail(cmd.Context(), args[0], addr); err != nil {
				return err
			}
			if addr == "" {
				userDone(cmd.ErrOrStderr(), args[0], "has no email address now")
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s's email address is now %s.\n", sanitize.Display(args[0], 64), sanitize.Display(addr, 254))
			}
			return nil
		},
	}
}

func newUsersResetMFACmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "reset-mfa NAME",
		Short: "Turn a user's two-factor sign-in off (lost authenticator) and end their sign-ins",
		Long: `reset-mfa removes a user's authenticator seed and recovery codes and ends their
sign-ins. If their organisation requires two-factor sign-in they must enrol
again (tech mfa enroll) before anything else.`,
		Example: `  tech users reset-mfa alice`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if err := c.ResetMFA(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Two-factor sign-in of %s is off and their sign-ins were ended; they enrol again with `tech mfa enroll`.\n", sanitize.Display(args[0], 64))
			return nil
		},
	}
}
