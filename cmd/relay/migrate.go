package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/relay"
)

func newMigrateCmd() *cobra.Command {
	var data, to string
	cmd := &cobra.Command{
		Use:   "migrate --data DIR --to postgres://…",
		Short: "Move a bbolt installation's state into an empty PostgreSQL database",
		Long: `migrate copies everything in DIR/relay.db (users, devices, roles, organisations,
tokens, sessions and their file lists, the recordings index, the audit chain,
settings and keys kept in the database, throttle counters) into an EMPTY
PostgreSQL database, in one transaction, and verifies the copied audit chain
with DIR's keys. A non-empty database is refused. Then DIR/store-url names the
database (without a password) and relay.db is renamed relay.db.migrated, so
every later relay command on DIR uses PostgreSQL. Stop the relay first.

The TLS key and certificate, the audit-head signing key, recordings and the
other files stay in DIR. No password on the command line: --to takes a URL
without one, with the password in ~/.pgpass (or PGPASSFILE); or give the whole
URL with --store-file FILE (mode 0600) or in $TETHER_STORE_URL and leave --to out.`,
		Example: `  relay migrate --data /var/lib/tether --to postgres://tether@db.example:5432/tether
  relay migrate --data /var/lib/tether --store-file /etc/tether/store-url`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if to != "" {
				if err := relay.CheckStoreFlagURL(to); err != nil {
					return errors.New(strings.Replace(err.Error(), "--store", "--to", 1))
				}
			} else {
				to = os.Getenv(relay.StoreURLEnv)
			}
			if to == "" {
				return errors.New("no target database: give --to postgres://…, --store-file FILE or $TETHER_STORE_URL")
			}
			// The target is given here, not taken as DIR's store.
			os.Unsetenv(relay.StoreURLEnv)
			res, err := relay.MigrateToPostgres(data, to)
			if err != nil {
				return err
			}
			w := cmd.ErrOrStderr()
			names := make([]string, 0, len(res.Counts))
			for n := range res.Counts {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(w, "  %-15s %d\n", n, res.Counts[n])
			}
			fmt.Fprintf(w, "migrated to %s; the audit chain verifies (%d entries). %s/store-url now names it.\n", res.Target, res.AuditEntries, data)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "data directory of the bbolt installation (required)")
	cmd.Flags().StringVar(&to, "to", "", "target PostgreSQL URL, without a password")
	cmd.MarkFlagRequired("data")
	return cmd
}
