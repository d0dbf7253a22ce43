package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/relay"
)

func newCertCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Rotate the relay's TLS certificate without re-pinning every client",
		Example: `  relay cert rotate --data /var/lib/tether
  relay cert show --data /var/lib/tether`,
	}
	cmd.AddCommand(newCertRotateCmd(), newCertShowCmd())
	return cmd
}

func newCertRotateCmd() *cobra.Command {
	var data string
	var overlap time.Duration
	var finish, cancel bool
	cmd := &cobra.Command{
		Use:   "rotate --data DIR [--overlap DUR] [--finish] [--cancel]",
		Short: "Make the next TLS key; clients learn its pin over the current one, then the relay switches",
		Long: `rotate makes the next TLS key and self-signed certificate (same names and
addresses as the current one) in DIR/tls/next and prints its fingerprint on
stdout. It works while the relay serves (which finds it within 10 s) or while it
is stopped (found at its next start).

The relay then announces the next pin, audited as relay.cert.announce, to every
signed-in technician on each answer and to every connected agent; they keep it
beside their current pin. After --overlap the relay switches to the new key
(relay.cert.switch) without a restart and deletes the old one; clients that see
the new key in use drop the old pin. A client that did not connect during the
overlap is refused with "the relay's certificate changed" and must re-pin by
hand (tech login --ca-fingerprint, agent run --ca-fingerprint).

--finish switches now instead of waiting for the end of the overlap. --cancel
withdraws a pending rotation (relay.cert.withdraw) and deletes its key; clients
that learned its pin keep it as their next pin until another rotation replaces
it or they re-pin.

In a cluster (several relays on one database, one cluster key) rotate on one
relay, then carry each step to the others with the cluster bundle:
  1. relay cert rotate --data DIR                 on one relay
  2. relay cluster export --data DIR --out FILE   on that relay
  3. relay cluster sync --data DIR --from FILE    on every other relay
     (each announces the next pin within 10 s, no restart)
  4. overlap: clients learn the next pin from whichever relay they reach
  5. relay cert rotate --data DIR --finish        on the first relay, then
     export and sync again everywhere (each switches within 10 s); without
     --finish every relay switches by itself at the end of the overlap`,
		Example: `  relay cert rotate --data /var/lib/tether                 # announce now, switch in 7 days
  relay cert rotate --data /var/lib/tether --overlap 72h
  relay cert rotate --data /var/lib/tether --finish        # every client has connected: switch now
  relay cert rotate --data /var/lib/tether --cancel        # withdraw the pending rotation
  relay cluster export --data /var/lib/tether --out /root/cluster.tar   # a cluster: then sync each relay`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if finish && cancel {
				return fmt.Errorf("--finish and --cancel exclude each other")
			}
			if cancel {
				r, err := relay.CancelCertRotation(data)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "Rotation to %s cancelled and its key deleted; the relay stops announcing it within 10 s.\n", r.Next)
				return nil
			}
			if finish {
				r, err := relay.FinishCertRotation(data)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), r.Next)
				fmt.Fprintf(cmd.ErrOrStderr(), "The relay switches to %s at its next check (within 10 s) or its next start.\n", r.Next)
				return nil
			}
			r, err := relay.RotateCert(data, overlap)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), r.Next)
			fmt.Fprintf(cmd.ErrOrStderr(), `Next certificate made: %s
The relay announces it within 10 s (or at its next start) and switches to it at %s.
Clients that do not connect before then must re-pin by hand. To switch earlier:
  relay cert rotate --data %s --finish
`, r.Next, r.SwitchAt.Format(time.RFC3339), data)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data, "data", "", "the relay's data directory (required)")
	f.DurationVar(&overlap, "overlap", 7*24*time.Hour, "how long the relay announces the next pin before it switches")
	f.BoolVar(&finish, "finish", false, "switch to the pending next certificate now")
	f.BoolVar(&cancel, "cancel", false, "withdraw the pending rotation and delete its key")
	cmd.MarkFlagRequired("data")
	return cmd
}

func newCertShowCmd() *cobra.Command {
	var data string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show --data DIR [--json]",
		Short: "Print the current certificate's fingerprint, and the next one during a rotation",
		Long: `show prints the fingerprint of the certificate in DIR on stdout and, during a
rotation, the next one and when the relay switches to it on stderr (or all of
it as JSON on stdout with --json). It reads files only.`,
		Example: `  relay cert show --data /var/lib/tether
  relay cert show --data /var/lib/tether --json`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := relay.ReadCertStatus(data)
			if err != nil {
				return err
			}
			if asJSON {
				b, _ := json.Marshal(st)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			fmt.Fprintln(cmd.OutOrStdout(), st.Current)
			if st.Next != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "Rotation pending: next %s, switching at %s\n", st.Next, st.SwitchAt.Format(time.RFC3339))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", "", "the relay's data directory (required)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON on stdout")
	cmd.MarkFlagRequired("data")
	return cmd
}
