package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/relay"
)

func newAuditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Work with the audit log offline",
		Example: "  sudo -u tether relay audit verify --data /var/lib/tether"}
	var data string
	verify := &cobra.Command{
		Use:   "verify --data DIR",
		Short: "Check the audit chain; exit 0 only when intact",
		Long: `verify walks the hash-chained audit log in DIR (the relay must be stopped, or
verify waits for its lock and fails): every entry's hash, link and MAC, and the
signed chain head, so an edit, deletion, reordering or truncation is found. It
names the first bad entry. Then, for every session requested once a trust root
existed, it checks that the signed policy in force then (recorded by hash, kept
in trust-policies/ of DIR, or in the database on PostgreSQL) verifies under the recorded root of the stored chain
and had not expired; each session offered under an unsigned or invalid policy
is listed and verify exits 1. So is every session whose device's signed consent
receipt names a technician certificate that no trust.cert.issue entry issued, and
the stored revocation list when no root of the stored chain validly signed it
(or no trust.revocation.publish entry records it).

With the state in PostgreSQL (DIR/store-url, or --store/--store-file) it checks
the one chain all relays of that database share, and they may keep running.`,
		Example: `  relay audit verify --data /var/lib/tether
  relay audit verify --data /var/lib/tether --store postgres://tether@db.example/tether`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return verifyAudit(cmd.ErrOrStderr(), data)
		},
	}
	verify.Flags().StringVar(&data, "data", "", "data directory (required)")
	verify.MarkFlagRequired("data")
	cmd.AddCommand(verify)
	return cmd
}

// verifyAudit runs every offline check of the audit log in data, writing
// each finding to w; any finding is an error.
func verifyAudit(w io.Writer, data string) error {
	n, err := relay.VerifyAudit(data)
	if err != nil {
		return err
	}
	pc, err := relay.VerifySessionPolicies(data)
	if err != nil {
		return err
	}
	for _, f := range append(pc.Findings, pc.CertFindings...) {
		fmt.Fprintf(w, "relay: %s\n", f)
	}
	revoked, err := relay.VerifyStoredRevocations(data)
	if err != nil {
		return err
	}
	if revoked != "" {
		fmt.Fprintf(w, "relay: %s\n", revoked)
	}
	switch {
	case len(pc.Findings) > 0:
		return fmt.Errorf("the audit chain is intact (%d entries), but %d of %d session(s) were offered under a policy that is not validly signed", n, len(pc.Findings), pc.Checked)
	case len(pc.CertFindings) > 0:
		return fmt.Errorf("the audit chain is intact (%d entries), but %d consent receipt(s) name a technician certificate this relay never issued", n, len(pc.CertFindings))
	case revoked != "":
		return fmt.Errorf("the audit chain is intact (%d entries), but the stored revocation list is not valid", n)
	}
	fmt.Fprintf(w, "audit log intact: %d entries verified; %d session(s) checked against the signed policy in force\n", n, pc.Checked)
	return nil
}
