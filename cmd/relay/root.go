package main

import "github.com/spf13/cobra"

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "relay",
		Short: "Tether relay: authenticates people and devices, brokers end-to-end encrypted sessions",
		Long: `relay is Tether's server. It authenticates technicians and enrolled devices,
brokers sessions between them, forwards end-to-end ciphertext it cannot read,
and keeps a hash-chained audit log, all in an embedded bbolt database, or in
PostgreSQL (--store, --store-file or $TETHER_STORE_URL; see relay migrate) so
that several relays share one state.`,
		Example: `  relay serve --data ./tether-data            # first start initialises the directory
  relay init --data /var/lib/tether --admin alice --password-file ./pw
  relay audit verify --data /var/lib/tether
  relay backup --data /var/lib/tether --out relay.tar   # while it runs
  relay users unlock alice --data /var/lib/tether   # with the relay stopped
  relay serve --data /var/lib/tether --store-file /etc/tether/store-url   # state in PostgreSQL
  relay migrate --data /var/lib/tether --to postgres://tether@db/tether`,
	}
	root.AddCommand(newInitCmd(), newServeCmd(), newAuditCmd())
	root.AddCommand(newEmergencyCmd())
	root.AddCommand(newUsersCmd())
	root.AddCommand(newCertCmd())
	root.AddCommand(newBackupCmd(), newRestoreCmd())
	root.AddCommand(newMigrateCmd())
	root.AddCommand(newClusterCmd())
	var sf storeFlags
	sf.add(root)
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return sf.apply() }
	return root
}
