package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

func newRecordingsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "recordings",
		Short: "Review encrypted session recordings (decrypted locally, never on the relay)",
		Example: `  tech recordings list
  tech recordings export 3f2a… --identity ~/reviewer.key -o session.cast
  tech recordings hold 3f2a… --reason "complaint 2026-114"`,
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
	cmd := &cobra.Command{Use: "recipients", Short: "Reviewer keys new recordings are encrypted to",
		Example: "  tech recordings recipients add \"$(tech keys generate -o ~/reviewer.key)\""}
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
	var ident, format, out, at string
	cmd := &cobra.Command{
		Use:   "export ID --identity FILE [--format asciicast|png] [--at DURATION] -o OUT",
		Short: "Decrypt a recording locally to an asciicast v2 file, or a desktop recording's screen to PNG",
		Long: `export decrypts recording ID on this machine into OUT (mode 0600, never
overwritten). A terminal recording becomes asciicast v2 that asciinema plays.
For a desktop recording, --format png writes the screen as the recording
shows it at --at (a duration from its start, e.g. 1m30s; default: its end),
rebuilt from the recorded updates. An incomplete recording is exported up to
its last whole chunk, with a warning.`,
		Example: `  tech recordings export 3f2a… --identity ~/reviewer.key -o session.cast
  asciinema play session.cast
  tech recordings export 3f2a… --identity ~/reviewer.key --format png --at 2m -o screen.png`,
		Args: cobra.ExactArgs(1),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			if format == "png" {
				d, atEnd, err := parseAt(at)
				if err != nil {
					return err
				}
				e, err := c.ExportFrame(cmd.Context(), args[0], ident, out, d, atEnd)
				if err != nil {
					return err
				}
				printExportedFrame(cmd.ErrOrStderr(), args[0], out, e)
				return nil
			}
			if at != "" {
				return fmt.Errorf("--at applies to --format png only")
			}
			e, err := c.ExportRecording(cmd.Context(), args[0], ident, format, out)
			if err != nil {
				return err
			}
			printExported(cmd.ErrOrStderr(), args[0], out, e)
			return nil
		}),
	}
	cmd.Flags().StringVar(&ident, "identity", "", "recording identity file (required)")
	cmd.Flags().StringVar(&format, "format", "asciicast", "output format: asciicast (terminal recordings) or png (a desktop recording's screen)")
	cmd.Flags().StringVar(&at, "at", "", "with --format png: the moment to export, as a duration from the start (default: the end)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "output file (required)")
	cmd.MarkFlagRequired("identity")
	cmd.MarkFlagRequired("output")
	return cmd
}

// parseAt parses --at: empty means the end.
func parseAt(at string) (d time.Duration, atEnd bool, err error) {
	if at == "" {
		return 0, true, nil
	}
	d, err = time.ParseDuration(at)
	if err != nil || d < 0 {
		return 0, false, fmt.Errorf("--at %q is not a duration from the start such as 90s or 1m30s", at)
	}
	return d, false, nil
}

func newRecPlayCmd(g *globals) *cobra.Command {
	var ident string
	var speed float64
	var raw, browser, noBrowser bool
	cmd := &cobra.Command{
		Use:   "play ID --identity FILE [--speed N] [--raw] [--browser] [--no-browser]",
		Short: "Replay a recording: a terminal one here, a desktop one in a local browser page",
		Long: `play decrypts recording ID on this machine and replays it.

A terminal recording replays here (idle gaps capped at 2 s). The output is
filtered like a live session's: what draws (text, colours, cursor movement)
is kept, what would act on this machine (clipboard writes, terminal reports
and queries, hyperlinks, DCS/APC strings) is removed. --raw replays every
byte as recorded. --browser plays it in a browser page instead, in the
embedded asciinema-player.

A desktop recording plays in a browser page: tech serves it on 127.0.0.1
(the URL, with a one-time token, is printed on stdout) and opens it in the
default browser (--no-browser only prints the URL). The page has a timeline,
play/pause, speed and the recording's markers; tech rebuilds the screen from
the recorded updates and the page only draws it. Stop with Ctrl-C.`,
		Example: `  tech recordings play 3f2a… --identity ~/reviewer.key --speed 2
  tech recordings play 3f2a… --identity ~/reviewer.key --raw | od -c | less
  tech recordings play 3f2a… --identity ~/reviewer.key --browser --no-browser`,
		Args: cobra.ExactArgs(1),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			if speed <= 0 {
				return errors.New("--speed must be positive")
			}
			rec, err := c.LoadRecording(cmd.Context(), args[0], ident)
			if err != nil {
				return err
			}
			if rec.Desktop && raw {
				return fmt.Errorf("recording %s is a desktop recording: --raw applies to terminal recordings", args[0])
			}
			if rec.Desktop || browser || noBrowser {
				return playInBrowser(cmd, rec, args[0], speed, !noBrowser)
			}
			out := cmd.OutOrStdout()
			if !raw { // the recorded device's output, filtered as a live session's
				out = sanitize.NewTermFilter(out)
			}
			err = tech.PlayCast(cmd.Context(), rec.Cast, speed, out)
			if rec.Cut != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "\ntech: warning: the recording ends early (incomplete)\n")
			}
			return err
		}),
	}
	cmd.Flags().StringVar(&ident, "identity", "", "recording identity file (required)")
	cmd.Flags().Float64Var(&speed, "speed", 1, "playback speed factor")
	cmd.Flags().BoolVar(&raw, "raw", false, "replay the recorded bytes unfiltered (escape sequences that act on this machine included)")
	cmd.Flags().BoolVar(&browser, "browser", false, "play a terminal recording in a browser page (desktop recordings always play there)")
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "serve the page but do not open a browser: only print its URL")
	cmd.MarkFlagRequired("identity")
	return cmd
}
