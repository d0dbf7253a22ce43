package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

func newRecordingsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "recordings",
		Short: "Review encrypted session recordings (decrypted locally, never on the relay)",
	}
	cmd.AddCommand(newRecipientsCmd(g), newRecListCmd(g), newRecVerifyCmd(g), newRecExportCmd(g), newRecPlayCmd(g))
	cmd.AddCommand(newRecHoldCmd(g), newRecReleaseCmd(g))
	return cmd
}

// withClient wraps a command body that needs the tech client.
func withClient(g *globals, fn func(cmd *cobra.Command, c *tech.Client, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := g.client(cmd)
		if err != nil {
			return err
		}
		return fn(cmd, c, args)
	}
}

func newRecipientsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "recipients", Short: "Reviewer keys new recordings are encrypted to"}
	add := &cobra.Command{
		Use:   "add PUBKEY",
		Short: "Encrypt recordings from now on to this public key too (needs recording.recipients)",
		Long: `add makes every later recording readable by the holder of the key's private half.
It needs recording.recipients, which among the built-in roles only superadmin
holds (not policy.manage): registering a key is a way to read recordings.`,
		Example: `  tech recordings recipients add tether-rec1…`,
		Args:    cobra.ExactArgs(1),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			r, err := c.AddRecipient(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Recordings from now on are encrypted to key %s as well.\n", sanitize.Display(r.KeyID, 64))
			return nil
		}),
	}
	var asJSON bool
	list := &cobra.Command{
		Use:     "list [--json]",
		Short:   "List reviewer keys",
		Example: `  tech recordings recipients list`,
		Args:    cli.NoArgs,
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			rs, err := c.Recipients(cmd.Context())
			if err != nil {
				return err
			}
			return printRecipients(cmd.OutOrStdout(), rs, asJSON)
		}),
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	rm := &cobra.Command{
		Use:     "remove KEYID",
		Short:   "Stop encrypting new recordings to a key (needs recording.recipients)",
		Example: `  tech recordings recipients remove 3f2a9c0d11e4b7a2`,
		Args:    cobra.ExactArgs(1),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			if err := c.RemoveRecipient(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Removed recipient %s (existing recordings stay readable by it).\n", args[0])
			return nil
		}),
	}
	cmd.AddCommand(add, list, rm)
	return cmd
}

func newRecListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list [--json]",
		Short:   "List recordings with their state (complete, incomplete, recording)",
		Example: `  tech recordings list --json`,
		Args:    cli.NoArgs,
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			rs, err := c.Recordings(cmd.Context())
			if err != nil {
				return err
			}
			return printRecordings(cmd.OutOrStdout(), rs, asJSON)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newRecVerifyCmd(g *globals) *cobra.Command {
	var ident string
	cmd := &cobra.Command{
		Use:   "verify ID --identity FILE",
		Short: "Decrypt locally and check every chunk and the asciicast stream",
		Long: `verify downloads recording ID, decrypts it on this machine with the identity
in FILE, and checks it whole: truncation, reordering, splicing, trailing data
and bit flips are all detected, and a file that is another session's recording
is refused. Exit 0 only for an intact recording of session ID.`,
		Example: `  tech recordings verify 3f2a… --identity ~/reviewer.key`,
		Args:    cobra.ExactArgs(1),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			v, err := c.VerifyRecording(cmd.Context(), args[0], ident)
			if err != nil {
				return err
			}
			printVerified(cmd.OutOrStdout(), args[0], v)
			return nil
		}),
	}
	cmd.Flags().StringVar(&ident, "identity", "", "recording identity file (required)")
	cmd.MarkFlagRequired("identity")
	return cmd
}

func newRecExportCmd(g *globals) *cobra.Command {
	var ident, format, out string
	cmd := &cobra.Command{
		Use:   "export ID --identity FILE [--format asciicast] -o OUT",
		Short: "Decrypt a recording locally to an asciicast v2 file",
		Long: `export decrypts recording ID on this machine into OUT (mode 0600, never
overwritten), as asciicast v2 that asciinema plays. An incomplete recording is
exported up to its last whole chunk, with a warning.`,
		Example: `  tech recordings export 3f2a… --identity ~/reviewer.key -o session.cast
  asciinema play session.cast`,
		Args: cobra.ExactArgs(1),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			e, err := c.ExportRecording(cmd.Context(), args[0], ident, format, out)
			if err != nil {
				return err
			}
			printExported(cmd.ErrOrStderr(), args[0], out, e)
			return nil
		}),
	}
	cmd.Flags().StringVar(&ident, "identity", "", "recording identity file (required)")
	cmd.Flags().StringVar(&format, "format", "asciicast", "output format (asciicast)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file (required)")
	cmd.MarkFlagRequired("identity")
	cmd.MarkFlagRequired("output")
	return cmd
}

func newRecPlayCmd(g *globals) *cobra.Command {
	var ident string
	var speed float64
	var raw bool
	cmd := &cobra.Command{
		Use:   "play ID --identity FILE [--speed N] [--raw]",
		Short: "Replay a recording in this terminal (idle gaps capped at 2 s)",
		Long: `play decrypts recording ID on this machine and replays its output here. The
output is filtered like a live session's: what draws (text, colours, cursor
movement) is kept, what would act on this machine (clipboard writes,
terminal reports and queries, hyperlinks, DCS/APC strings) is removed.
--raw replays every byte as recorded.`,
		Example: `  tech recordings play 3f2a… --identity ~/reviewer.key --speed 2
  tech recordings play 3f2a… --identity ~/reviewer.key --raw | od -c | less`,
		Args: cobra.ExactArgs(1),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			out := cmd.OutOrStdout()
			if !raw { // the recorded device's output, filtered as a live session's
				out = sanitize.NewTermFilter(out)
			}
			incomplete, err := c.PlayRecording(cmd.Context(), args[0], ident, speed, out)
			if incomplete {
				fmt.Fprintf(cmd.ErrOrStderr(), "\ntech: warning: the recording ends early (incomplete)\n")
			}
			return err
		}),
	}
	cmd.Flags().StringVar(&ident, "identity", "", "recording identity file (required)")
	cmd.Flags().Float64Var(&speed, "speed", 1, "playback speed factor")
	cmd.Flags().BoolVar(&raw, "raw", false, "replay the recorded bytes unfiltered (escape sequences that act on this machine included)")
	cmd.MarkFlagRequired("identity")
	return cmd
}
