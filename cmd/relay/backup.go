package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/relay"
	"github.com/tether-support/tether/internal/sanitize"
)

func newBackupCmd() *cobra.Command {
	var o relay.BackupOptions
	cmd := &cobra.Command{
		Use:   "backup --data DIR --out FILE [--force]",
		Short: "Write a consistent backup of the data directory, while the relay runs or not",
		Long: `backup writes one archive (tar; see docs/operations.md) holding the data
directory: the database as a consistent snapshot, and the TLS identity, audit
head key, trust files, emergency grants and recordings beside it.

While the relay serves DIR it takes the snapshot itself, asked over the Unix
socket DIR/host.sock (0600; only the relay's user or root may use it: being
able to reach the data directory is the credential, no password). When the
relay is stopped, backup reads the database file directly. Either way the
backup is audited (relay.backup) and the copy records it.

FILE is written beside its final name and renamed into place (mode 0600); an
existing FILE is kept unless --force. The archive holds every secret of the
relay: keep it like the data directory itself.`,
		Example: `  relay backup --data /var/lib/tether --out /var/backups/tether/relay-$(date +%F).tar
  relay restore --data /var/lib/tether-test --from /var/backups/tether/relay-2026-12-01.tar`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := relay.Backup(o)
			if err != nil {
				return err
			}
			w := cmd.ErrOrStderr()
			for _, s := range res.Skipped {
				fmt.Fprintf(w, "relay: left out %s\n", sanitize.Display(s, 200))
			}
			how := "the stopped relay's database file"
			if res.Online {
				how = "a snapshot taken by the running relay"
			}
			fmt.Fprintf(w, "Wrote %s: %d files, %d bytes, from %s.\n", o.Out, res.Files, res.Bytes, how)
			return nil
		},
	}
	requiredString(cmd, &o.Dir, "data", "the relay's data directory (required)")
	requiredString(cmd, &o.Out, "out", "the archive to write (required)")
	cmd.Flags().BoolVar(&o.Force, "force", false, "replace FILE if it exists")
	return cmd
}

func newRestoreCmd() *cobra.Command {
	var dir, from string
	cmd := &cobra.Command{
		Use:   "restore --data DIR --from FILE",
		Short: "Restore a backup into a new or empty data directory",
		Long: `restore checks the archive FILE whole (every file against its manifest, the
database's structure, the audit chain) and puts it into DIR, which must not
exist or be empty: it never overwrites a data directory. It extracts into a
hidden directory on DIR's file system and moves the files into place only
when every check passed, so a bad archive leaves nothing behind. The restore is audited (relay.restore). Then start the
relay on DIR; clients keep their pin, since the TLS identity is restored too.`,
		Example: `  relay restore --data /var/lib/tether --from /var/backups/tether/relay-2026-12-01.tar
  relay audit verify --data /var/lib/tether
  systemctl start tether-relay`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := relay.Restore(dir, from)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Restored %d files into %s from the backup of %s; %d audit entries verified.\nNext: relay serve --data %s\n",
				len(res.Manifest.Files), dir, res.Manifest.Created.Local().Format(time.RFC1123), res.AuditEntries, dir)
			return nil
		},
	}
	requiredString(cmd, &dir, "data", "the data directory to create; must be missing or empty (required)")
	requiredString(cmd, &from, "from", "the archive `FILE` that relay backup wrote (required)")
	return cmd
}
