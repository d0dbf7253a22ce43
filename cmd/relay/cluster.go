package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/relay"
)

// newClusterCmd is the parent of the commands for several relays on one
// PostgreSQL database.
func newClusterCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Run several relays on one PostgreSQL database: share the cluster key and files",
		Long: `Every relay of a cluster reads the same PostgreSQL database and serves the same
TLS key (the cluster key), so clients pin one fingerprint whichever relay
answers. Besides the database the relays share the cluster bundle: the cluster
key (and the next one during a rotation), the audit head-signing key and the
database's name. The trust documents (root chain, signed policy, revocations,
technician certificates) are in the database, in force on every relay at once. export writes it from a member, join makes a new
member from it, sync brings a member's TLS files up to date after a rotation,
status lists the relays registered in the database.`,
		Example: `  relay cluster export --data /var/lib/tether --out cluster.tar
  relay cluster join --data /var/lib/tether --from cluster.tar --store-file /etc/tether/store-url
  relay cluster sync --data /var/lib/tether --from cluster.tar
  relay cluster status --data /var/lib/tether`,
	}
	cmd.AddCommand(newClusterExportCmd(), newClusterJoinCmd(), newClusterSyncCmd(), newClusterStatusCmd())
	return cmd
}

func newClusterExportCmd() *cobra.Command {
	var dir, out string
	cmd := &cobra.Command{
		Use:   "export --data DIR --out FILE",
		Short: "Write the cluster bundle of a relay on PostgreSQL",
		Long: `export writes the cluster bundle of DIR to FILE (a tar, mode 0600; an existing
FILE is refused): tls/ (the cluster key and certificate, and the next ones
while a rotation is under way), audit-head.key and store-url. Not the trust
documents (they are in the database), the database, the relay's own ID, recordings or emergency grants.
The bundle holds the cluster's private keys: copy it to the other relays over a
channel you trust and delete it after. A data directory on bbolt (relay.db) is
refused: it has nothing to share. It prints the cluster key's pin on stdout.`,
		Example: `  relay cluster export --data /var/lib/tether --out /root/cluster.tar
  scp /root/cluster.tar relay2:/root/ && rm /root/cluster.tar`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := relay.ExportCluster(dir, out)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), b.Current)
			fmt.Fprintf(cmd.ErrOrStderr(), "Wrote the cluster bundle %s (%d files; database %s).\n", out, len(b.Files), b.StoreURL)
			if b.Rotation != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "It carries the pending rotation to %s.\n", b.Rotation.Next)
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "It holds the cluster's private keys: keep it like the data directory and delete it once used.")
			return nil
		},
	}
	requiredString(cmd, &dir, "data", "a member's data directory (required)")
	requiredString(cmd, &out, "out", "the bundle `FILE` to write (required)")
	return cmd
}

func newClusterJoinCmd() *cobra.Command {
	var dir, from string
	cmd := &cobra.Command{
		Use:   "join --data DIR --from FILE",
		Short: "Make a new relay's data directory from a cluster bundle",
		Long: `join makes DIR, which must be missing or empty, the data directory of a new
relay of the cluster from the bundle FILE that relay cluster export wrote. It
checks that the database named in the bundle is reachable and already
initialised by the first relay, and that the bundle's audit head key signs its
chain; the join is audited (relay.cluster.join). A refused join leaves nothing
in DIR. The bundle never carries the database's password: give it as for any
relay command (--store-file, $TETHER_STORE_URL or ~/.pgpass). It prints the
cluster's pin on stdout: clients pin it whichever relay they reach.`,
		Example: `  relay cluster join --data /var/lib/tether --from /root/cluster.tar --store-file /etc/tether/store-url
  relay serve --data /var/lib/tether --store-file /etc/tether/store-url`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := relay.JoinCluster(dir, from)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), res.Bundle.Current)
			fmt.Fprintf(cmd.ErrOrStderr(), "Joined the cluster on %s in %s; clients pin %s.\nNext: relay serve --data %s\n",
				res.Bundle.StoreURL, dir, res.Bundle.Current, dir)
			return nil
		},
	}
	requiredString(cmd, &dir, "data", "the data directory to create; must be missing or empty (required)")
	requiredString(cmd, &from, "from", bundleUsage)
	return cmd
}

func newClusterSyncCmd() *cobra.Command {
	var dir, from string
	cmd := &cobra.Command{
		Use:   "sync --data DIR --from FILE",
		Short: "Bring a member's TLS files in line with a newer cluster bundle (certificate rotation)",
		Long: `sync replaces the TLS files of the existing member DIR with those of the bundle
FILE, written by relay cluster export on the relay where relay cert rotate ran.
A serving relay follows without a restart (within 10 s): with a rotation in the
bundle it announces the next pin like the relay where it started; with a new
cluster key (after relay cert rotate --finish) it switches to it. A bundle of
another cluster (another database or audit head key) is refused. Run it on
every other relay after each step of a rotation; see relay cert rotate --help.`,
		Example: `  relay cluster sync --data /var/lib/tether --from /root/cluster.tar`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := relay.SyncCluster(dir, from)
			if err != nil {
				return err
			}
			printSync(cmd, dir, res)
			return nil
		},
	}
	requiredString(cmd, &dir, "data", "the member's data directory (required)")
	requiredString(cmd, &from, "from", bundleUsage)
	return cmd
}

// printSync tells what sync did: the pin on stdout, the rest on stderr.
func printSync(cmd *cobra.Command, dir string, res *relay.SyncResult) {
	fmt.Fprintln(cmd.OutOrStdout(), res.Current)
	w := cmd.ErrOrStderr()
	switch {
	case !res.Changed:
		fmt.Fprintf(w, "%s already matches the bundle.\n", dir)
	case res.Switching:
		fmt.Fprintf(w, "The relay switches to the cluster key %s within 10 s (or at its next start).\n", res.Current)
		if res.Unannounced {
			fmt.Fprintln(w, "warning: this relay never announced that key; its clients that did not reach another relay during the overlap must re-pin by hand.")
		}
		if res.Again {
			fmt.Fprintf(w, "The bundle also carries a further rotation to %s: run this sync again once the relay has switched.\n", res.Next)
		}
	case res.Withdrawn:
		fmt.Fprintln(w, "The pending rotation is withdrawn, as on the relay the bundle came from.")
	default:
		fmt.Fprintf(w, "The relay announces the next pin %s within 10 s (or at its next start).\n", res.Next)
	}
}
