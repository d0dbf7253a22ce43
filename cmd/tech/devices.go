package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
)

func newDevicesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "devices", Short: "Enroll, list, revoke, remove, rename and move devices",
		Example: "  tech devices list\n  tech devices revoke ward3-pc"}
	var group string
	tok := &cobra.Command{
		Use:   "enroll-token [--group G]",
		Short: "Print a one-time device enrollment token (valid 24 h)",
		Long: `enroll-token prints a one-time token on stdout for 'agent enroll'. It is
valid for 24 hours, works once, and carries the relay's certificate fingerprint
so the agent can pin the relay without a prompt.`,
		Example: `  tech devices enroll-token --group front-desk > token`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			resp, err := c.EnrollToken(cmd.Context(), group)
			if err != nil {
				return err
			}
			printEnrollToken(cmd.OutOrStdout(), cmd.ErrOrStderr(), resp, c.Relay())
			return nil
		},
	}
	tok.Flags().StringVar(&group, "group", "", "device group the new device joins (default: \"default\", or your first device group if you are limited to groups)")
	var asJSON bool
	list := &cobra.Command{
		Use:   "list [--json]",
		Short: "List enrolled devices with name, group, state and when last seen",
		Long: `list shows the devices you may see (all, or those of your device groups):
name, group, state (online, offline, or revoked) and when the agent last
connected or disconnected. Removed devices are not listed.`,
		Example: `  tech devices list
  tech devices list --json | jq -r '.[] | select(.online) | .name'`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			ds, err := c.Devices(cmd.Context())
			if err != nil {
				return err
			}
			return printDevices(cmd.OutOrStdout(), ds, asJSON)
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	gp := &cobra.Command{
		Use:   "group-policy GROUP consent|unattended|unattended-control",
		Short: "Set whether a device group's sessions need the end user's consent",
		Long: `group-policy sets a device group's policy. consent (the default) asks the end
user for every session. unattended is for servers and kiosks with nobody at the
keyboard: sessions start without a prompt, but only with --reason, only if the
device's agent runs with --allow-unattended, and they are recorded, audited and
end with a screen lock like any other; they never get screen-control (control of
the mouse and keyboard). unattended-control is unattended with screen-control
too, for unattended displays (agents that pin a trust root still leave it out).`,
		Example: `  tech devices group-policy servers unattended
  tech devices group-policy lobby-displays unattended-control`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if err := c.SetGroupPolicy(cmd.Context(), args[0], args[1]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Group %q now uses the %s policy.\n", args[0], args[1])
			return nil
		},
	}
	cmd.AddCommand(tok, list, gp)
	cmd.AddCommand(deviceLifecycleCmds(g)...)
	return cmd
}
