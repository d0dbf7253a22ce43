package main

import "github.com/spf13/cobra"

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "relay",
		Short: "Tether relay: authenticates people and devices, brokers end-to-end encrypted sessions",
		Long: `relay is Tether's server. It authenticates technicians and enrolled devices,
brokers sessions between them, forwards end-to-end ciphertext it cannot read,
and keeps a hash-chained audit log, all in an embedded bbolt database.`,
		Example: `  relay serve --data ./tether-data            # first start initialises the directory
  relay init --data /var/lib/tether --admin alice --password-file ./pw
  relay audit verify --data /var/lib/tether
  relay backup --data /var/lib/tether --out relay.tar   # while it runs
  relay users unlock alice --data /var/lib/tether   # with the relay stopped`,
	}
	root.AddCommand(newInitCmd(), newServeCmd(), newAuditCmd())
	root.AddCommand(newEmergencyCmd())
	root.AddCommand(newUsersCmd())
	root.AddCommand(newCertCmd())
	root.AddCommand(newBackupCmd(), newRestoreCmd())
	return root
}
