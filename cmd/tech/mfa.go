package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
)

func newMFACmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "mfa",
		Example: "  tech mfa enroll\n  tech mfa confirm 123456 > recovery-codes.txt",
		Short:   "Two-factor sign-in with an authenticator app (TOTP)",
	}
	var fromStdin bool
	enroll := &cobra.Command{
		Use:   "enroll [--password-stdin]",
		Short: "Start enrolment: shows a QR code and prints the secret on stdout",
		Long: `enroll asks for your password again, then shows a QR code for your
authenticator app on the terminal and prints the secret on stdout (type it in
if you cannot scan). Nothing changes until 'tech mfa confirm CODE'. Enrolling
again replaces your authenticator.`,
		Example: `  tech mfa enroll
  tech mfa confirm 123456`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			pw, err := newPrompter(cmd).reauth(fromStdin)
			if err != nil {
				return err
			}
			resp, err := c.MFAEnroll(cmd.Context(), pw)
			if err != nil {
				return err
			}
			return printMFAEnroll(cmd.OutOrStdout(), cmd.ErrOrStderr(), resp)
		},
	}
	enroll.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from standard input")
	confirm := &cobra.Command{
		Use:   "confirm CODE",
		Short: "Activate two-factor sign-in; prints ten one-time recovery codes on stdout",
		Long: `confirm checks the first code from your authenticator app and turns
two-factor sign-in on. Ten recovery codes are printed once: each works once in
place of a code ('tech login --totp RECOVERY-CODE'). Only their hashes are kept.`,
		Example: `  tech mfa confirm 123456 > recovery-codes.txt`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			resp, err := c.MFAConfirm(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			printRecoveryCodes(cmd.OutOrStdout(), cmd.ErrOrStderr(), resp)
			return nil
		},
	}
	var disableStdin bool
	disable := &cobra.Command{
		Use:     "disable [--password-stdin]",
		Short:   "Turn two-factor sign-in off (asks for the password; refused if policy requires MFA)",
		Example: `  tech mfa disable`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			pw, err := newPrompter(cmd).reauth(disableStdin)
			if err != nil {
				return err
			}
			if err := c.MFADisable(cmd.Context(), pw); err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "Two-factor sign-in is off.")
			return nil
		},
	}
	disable.Flags().BoolVar(&disableStdin, "password-stdin", false, "read the password from standard input")
	cmd.AddCommand(enroll, confirm, disable)
	return cmd
}
