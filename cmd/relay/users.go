package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/relay"
)

func newUsersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Work with accounts on the relay host (the relay stopped)",
		Example: "  sudo -u tether relay users unlock alice --data /var/lib/tether"}
	cmd.AddCommand(newUnlockCmd())
	return cmd
}

func newUnlockCmd() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "unlock NAME --data DIR",
		Short: "Unlock an account locked after failed sign-ins, from the relay host",
		Long: `unlock unlocks the account NAME in the data directory DIR, resets its failed
sign-ins and its sign-in back-off, and records user.unlock in the audit log
(actor "relay host"). Being able to write DIR is the credential, so it works on
any account, the service superadmin included. It needs the database to itself:
stop the relay first. While the relay runs it says so and changes nothing;
then unlock over the network with 'tech users unlock NAME' as an administrator.
A lockout never ended anyone's existing sign-in.`,
		Example: `  systemctl stop tether-relay
  relay users unlock alice --data /var/lib/tether
  relay audit verify --data /var/lib/tether
  systemctl start tether-relay`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return fmt.Errorf("give exactly one username: relay users unlock NAME --data DIR")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := relay.UnlockUser(data, args[0])
			if err != nil {
				return err
			}
			if res.WasLocked {
				fmt.Fprintf(cmd.ErrOrStderr(), "unlocked %s (state now %s); failed sign-ins reset; audited\n", res.Username, res.State)
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "%s was not locked (state %s); failed sign-ins reset; audited\n", res.Username, res.State)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "the relay's data directory (required)")
	cmd.MarkFlagRequired("data")
	return cmd
}
