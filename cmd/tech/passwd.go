package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
)

func newPasswdCmd(g *globals) *cobra.Command {
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "passwd [--password-stdin]",
		Short: "Change your password",
		Long: `passwd changes your password. The new one must meet the strictest policy of
your organisations (length, blocklist of common and breached passwords, not
containing your username, history). After signing in with a temporary or
expired password this is the only command allowed. Passwords are read from the
terminal without echo, or with --password-stdin the current and then the new
password, one a line — never from the command line.`,
		Example: `  tech passwd
  printf '%s\n%s\n' "$OLD" "$NEW" | tech passwd --password-stdin`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			cur, next, err := newPrompter(cmd).passwords(fromStdin)
			if err != nil {
				return err
			}
			if err := c.Passwd(cmd.Context(), cur, next); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "Password changed. Your other sign-ins were ended.")
			return nil
		},
	}
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the current and the new password from standard input, one a line")
	return cmd
}
