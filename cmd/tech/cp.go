package main

import (
	"github.com/spf13/cobra"

	"tether/internal/tech"
)

func newCpCmd(g *globals) *cobra.Command {
	var o tech.CopyOptions
	cmd := &cobra.Command{
		Use:   "cp [-r] [--force] [--session ID] SRC DST",
		Short: "Copy files to or from a device, end-to-end encrypted and SHA-256 verified",
		Long: `cp copies a file (or, with -r, a directory tree) between this machine and a
device; write the device side as DEVICE:PATH (relative to the end user's home,
which is the only folder the device allows). The end user is asked to consent
to file transfer in that direction, and sees each file as it moves. Every file
is verified by SHA-256 end to end and written atomically: an interrupted
transfer leaves nothing at the destination. Existing files are not replaced
without --force; file modes are kept. With --session, a live session where
files were already granted is reused instead of asking again.`,
		Example: `  tech cp report.pdf clinic-pc-7:Documents/
  tech cp clinic-pc-7:Desktop/scan.png ./scan.png
  tech cp -r clinic-pc-7:logs ./pc7-logs
  tech cp --session 3f2a… fix.sh clinic-pc-7:`,
		Args: cobra.ExactArgs(2),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			o.Src, o.Dst = args[0], args[1]
			return c.Copy(cmd.Context(), o)
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Recursive, "recursive", "r", false, "copy directories recursively")
	f.BoolVar(&o.Force, "force", false, "replace existing files")
	f.StringVar(&o.Session, "session", "", "reuse the consent of this live session")
	f.StringVar(&o.Reason, "reason", "", "reason or ticket, shown to the end user and audited")
	return cmd
}

func newClipboardCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "clipboard", Short: "Move text to or from a device's clipboard"}
	var o tech.ClipboardOptions
	send := &cobra.Command{
		Use:     "send DEVICE",
		Short:   "Set the device's clipboard to standard input (at most 32 KiB)",
		Example: `  echo -n 'ticket 4711' | tech clipboard send clinic-pc-7`,
		Args:    cobra.ExactArgs(1),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			o.Device, o.Set = args[0], true
			return c.Clipboard(cmd.Context(), o)
		}),
	}
	get := &cobra.Command{
		Use:     "get DEVICE",
		Short:   "Print the device's clipboard",
		Example: `  tech clipboard get clinic-pc-7 > clip.txt`,
		Args:    cobra.ExactArgs(1),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			o.Device, o.Set = args[0], false
			return c.Clipboard(cmd.Context(), o)
		}),
	}
	for _, c := range []*cobra.Command{send, get} {
		c.Flags().StringVar(&o.Session, "session", "", "reuse the consent of this live session")
		c.Flags().StringVar(&o.Reason, "reason", "", "reason or ticket, shown to the end user and audited")
	}
	cmd.AddCommand(send, get)
	return cmd
}
