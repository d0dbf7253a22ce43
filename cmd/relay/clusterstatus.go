package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/cluster"
	"github.com/tether-support/tether/internal/relay"
)

func newClusterStatusCmd() *cobra.Command {
	var dir string
	var asJSON bool
	var heartbeat time.Duration
	cmd := &cobra.Command{
		Use:   "status --data DIR [--json]",
		Short: "List the relays of the cluster, live or expired, with the agents and sessions each holds",
		Long: `status reads the relays' registrations in the database DIR names (any member's
data directory; the relays keep running): each relay's ID, the URL the others
reach it at (--advertise), its last heartbeat, whether it is live (a heartbeat
within 5 heartbeats, --cluster-heartbeat) or expired, the devices whose agent
is connected to it and the open sessions it holds. An expired relay is swept
by the others at their next heartbeat: its sessions end ("relay ID stopped"),
its recordings are marked incomplete, its agents reconnect elsewhere.`,
		Example: `  relay cluster status --data /var/lib/tether
  relay cluster status --data /var/lib/tether --json | jq '.[] | select(.live)'`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rs, err := relay.ClusterStatus(dir, heartbeat)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rs)
			}
			if len(rs) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "No relay is registered (none is serving).")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RELAY\tADVERTISE\tSTATE\tLAST HEARTBEAT\tAGENTS\tSESSIONS")
			for _, r := range rs {
				state := "live"
				if !r.Live {
					state = "expired"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\n", r.ID, r.Advertise, state, r.HeartbeatAt.UTC().Format(time.RFC3339), r.Agents, r.Sessions)
			}
			return tw.Flush()
		},
	}
	requiredString(cmd, &dir, "data", "data directory of a relay of the cluster (required)")
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print a JSON list on stdout")
	f.DurationVar(&heartbeat, "cluster-heartbeat", cluster.DefaultHeartbeat, "the relays' heartbeat interval (a relay is expired after 5 missed)")
	return cmd
}
