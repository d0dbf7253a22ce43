package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

// deviceAction is one lifecycle command of `tech devices`: how it calls
// the relay and what it tells the user afterwards.
type deviceAction struct {
	use, short, long, example string
	args                      int
	flags                     func(*cobra.Command)
	run                       func(ctx context.Context, c *tech.Client, args []string) (api.DeviceActionResult, error)
	done                      func(r api.DeviceActionResult) string
}

// newDeviceActionCmd builds one lifecycle command: it prints what it did on
// stderr and, with --json, the device afterwards on stdout.
func newDeviceActionCmd(g *globals, a deviceAction) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use: a.use, Short: a.short, Long: a.long, Example: a.example,
		Args: cobra.ExactArgs(a.args),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			r, err := a.run(cmd.Context(), c, args)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.ErrOrStderr(), a.done(r))
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), r)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the device afterwards as JSON on stdout")
	if a.flags != nil {
		a.flags(cmd)
	}
	return cmd
}

// endedText says how many live sessions a revocation or removal ended.
func endedText(n int) string {
	if n == 1 {
		return " 1 live session was ended (the device locks its screen)."
	}
	if n > 1 {
		return fmt.Sprintf(" %d live sessions were ended (the device locks its screen).", n)
	}
	return ""
}

// deviceLifecycleCmds returns revoke, remove, rename and move.
func deviceLifecycleCmds(g *globals) []*cobra.Command {
	var group string
	return []*cobra.Command{
		newDeviceActionCmd(g, deviceAction{
			use:   "revoke NAME",
			short: "Revoke a device's key: it is disconnected at once and cannot reconnect",
			long: `revoke stops a device's key working at once (needs device.manage): its
connection to the relay is closed, its live sessions end (the agent locks the
screen), and it can neither reconnect nor enroll again with that key. It stays
in 'tech devices list' as revoked until you remove it. A reinstalled device
enrolls again with a new token and a fresh key.`,
			example: `  tech devices revoke ward3-pc`,
			args:    1,
			run: func(ctx context.Context, c *tech.Client, args []string) (api.DeviceActionResult, error) {
				return c.RevokeDevice(ctx, args[0])
			},
			done: func(r api.DeviceActionResult) string {
				return fmt.Sprintf("Device %q (%s) is revoked.%s", sanitize.Display(r.Name, 63), r.ID, endedText(r.Sessions))
			},
		}),
		newDeviceActionCmd(g, deviceAction{
			use:   "remove NAME",
			short: "Remove a device: gone from the lists, its key never works again",
			long: `remove takes a device off the relay (needs device.manage): it disappears from
'tech devices list', its connection and live sessions end as for revoke, its
key is never accepted again, and its name is free for a new enrollment. The
audit log keeps its ID and name.`,
			example: `  tech devices remove old-laptop`,
			args:    1,
			run: func(ctx context.Context, c *tech.Client, args []string) (api.DeviceActionResult, error) {
				return c.RemoveDevice(ctx, args[0])
			},
			done: func(r api.DeviceActionResult) string {
				return fmt.Sprintf("Device %q (%s) is removed.%s", sanitize.Display(r.Name, 63), r.ID, endedText(r.Sessions))
			},
		}),
		newDeviceActionCmd(g, deviceAction{
			use:   "rename OLD NEW",
			short: "Rename a device (the enrollment name rules apply; names are unique)",
			long: `rename gives a device a new name (needs device.manage): letters, digits, '.',
'-' and '_', at most 63, unique among devices. Sessions and the audit log
refer to the device by its ID, which does not change.`,
			example: `  tech devices rename DESKTOP-7Q2 front-desk-1`,
			args:    2,
			run: func(ctx context.Context, c *tech.Client, args []string) (api.DeviceActionResult, error) {
				return c.RenameDevice(ctx, args[0], args[1])
			},
			done: func(r api.DeviceActionResult) string {
				return fmt.Sprintf("Device %s is now called %q.", r.ID, sanitize.Display(r.Name, 63))
			},
		}),
		newDeviceActionCmd(g, deviceAction{
			use:   "move NAME --group G",
			short: "Move a device to another device group",
			long: `move puts a device in another group (needs device.manage). The group decides
who may reach it (users limited to device groups) and whether its sessions
need the end user's consent ('tech devices group-policy'). An administrator
limited to device groups can move only their groups' devices, and only into
one of their groups.`,
			example: `  tech devices move ward3-pc --group ward-4`,
			args:    1,
			flags: func(cmd *cobra.Command) {
				cmd.Flags().StringVar(&group, "group", "", "the device group to move it to (required)")
				cmd.MarkFlagRequired("group")
			},
			run: func(ctx context.Context, c *tech.Client, args []string) (api.DeviceActionResult, error) {
				return c.MoveDevice(ctx, args[0], group)
			},
			done: func(r api.DeviceActionResult) string {
				return fmt.Sprintf("Device %q is now in group %q.", sanitize.Display(r.Name, 63), sanitize.Display(r.Group, 63))
			},
		}),
	}
}
