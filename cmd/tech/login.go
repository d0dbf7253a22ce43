package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/tech"
)

func newLoginCmd(g *globals) *cobra.Command {
	var o tech.LoginOptions
	var passwordStdin bool
	cmd := &cobra.Command{
		Use:   "login --relay URL --user NAME [--password-stdin] [--totp CODE] [--ca-fingerprint SHA256:<hex>]",
		Short: "Sign in to a relay and pin its certificate",
		Long: `login signs in and stores a short-lived token (mode 0600) in the config
directory. The relay's certificate is pinned: give the fingerprint 'relay init'
printed with --ca-fingerprint, or it is trusted on first use; a changed key is
refused afterwards. The password is read from the terminal without echo, or
from standard input with --password-stdin — never from the command line.`,
		Example: `  tech login --relay https://relay.example:8443 --user alice --ca-fingerprint SHA256:3f…
  tech login --relay https://relay.example:8443 --user alice --password-stdin < ~/.tether-pw`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			o.Password = func() (string, error) {
				return newPrompter(cmd).password(passwordStdin, "Password for "+o.User+": ")
			}
			res, err := c.Login(cmd.Context(), o)
			printLogin(cmd.ErrOrStderr(), res, err, c.Home)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Relay, "relay", "", "relay URL, https://HOST:PORT (required)")
	f.StringVar(&o.User, "user", "", "username (required)")
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from the first line of standard input")
	f.StringVar(&o.TOTP, "totp", "", "current two-factor code")
	f.StringVar(&o.Pin, "ca-fingerprint", "", "relay certificate fingerprint, SHA256:<hex>")
	cmd.MarkFlagRequired("relay")
	cmd.MarkFlagRequired("user")
	return cmd
}

func newLogoutCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "logout",
		Short:   "End the login token on the relay and locally",
		Example: `  tech logout`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if err := c.Logout(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "Signed out.")
			return nil
		},
	}
}
