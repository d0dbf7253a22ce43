package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/tech"
)

func newAuditVerifyCmd(g *globals) *cobra.Command {
	var opts tech.AuditVerifyOptions
	cmd := &cobra.Command{
		Use:   "verify [FILE]",
		Short: "Check the audit log against every head this client has seen",
		Long: `verify fetches the relay's audit log (or reads an exported JSON Lines FILE) and
checks that its hash chain is intact, that its signed head verifies, and that it
is an extension of the newest signed head this client remembers for the relay
(and of every checkpoint countersigned by an --admin-key, or by an administrator
of the trust root this client pinned): a history rewritten by whoever holds the
relay's data is reported, exit 1. --admin-key also requires at least one of its
checkpoints; with a pinned root and no --admin-key, root administrators'
checkpoints are checked when the log carries them. On success it remembers the
log's head for next time.`,
		Example: `  tech audit verify
  tech audit export > audit.jsonl && tech audit verify audit.jsonl
  tech audit verify --admin-key admin.pub`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return fmt.Errorf("unexpected argument %q (see `%s --help`)", args[1], cmd.CommandPath())
			}
			return nil
		},
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			if len(args) == 1 {
				opts.File = args[0]
			}
			rep, err := c.AuditVerify(cmd.Context(), opts)
			if err != nil {
				return err
			}
			printAuditReport(cmd.ErrOrStderr(), rep)
			return nil
		}),
	}
	cmd.Flags().StringArrayVar(&opts.AdminKeys, "admin-key", nil, "an administrator's public key file; the log must extend its countersigned checkpoints (repeatable)")
	return cmd
}

func newAuditCheckpointCmd(g *globals) *cobra.Command {
	var opts tech.AuditCheckpointOptions
	cmd := &cobra.Command{
		Use:   "checkpoint --passphrase-file FILE [--key FILE]",
		Short: "Verify the audit log, then countersign its head with an administrator key",
		Long: `checkpoint verifies the relay's audit log like verify, then countersigns its
signed head with an administrator's hybrid key and uploads the countersignature
(needs audit.export). Anyone can then check the log against it with
` + "`tech audit verify --admin-key PUBFILE`" + `: whoever holds the relay's data cannot
forge it. --key defaults to admin.key in the config directory.`,
		Example: `  tech audit checkpoint --key ~/admin.key --passphrase-file ~/admin.pass`,
		Args:    cli.NoArgs,
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			done, err := c.AuditCheckpoint(cmd.Context(), opts)
			if done.Report != nil {
				printAuditReport(cmd.ErrOrStderr(), done.Report)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "countersigned the audit head at entry %d with admin key %s\n", done.Seq, done.AdminKey)
			return nil
		}),
	}
	cmd.Flags().StringVar(&opts.KeyFile, "key", "", "the administrator's encrypted key file (default admin.key in the config directory)")
	cmd.Flags().StringVar(&opts.PassphraseFile, "passphrase-file", "", "a file holding the key's passphrase")
	return cmd
}

func newAuditSearchCmd(g *globals) *cobra.Command {
	var opts tech.AuditSearchOptions
	var asJSON, verify bool
	cmd := &cobra.Command{
		Use:   "search [--since T] [--until T] [--actor U] [--action A] [--device D] [--outcome O] [--json]",
		Short: "Print the audit entries that match filters",
		Long: `search asks the relay for the audit entries that match every filter given
(needs audit.read; the relay filters and pages) and prints them as a table or,
with --json, a JSON array. --since and --until take RFC 3339 times (since
inclusive, until exclusive); --actor is an actor ID or a username; --action
"session.*" matches every session action; --device matches the target or a
device detail; --outcome matches exactly (success, failure, denied, granted, ...).
At most --max entries are printed (a warning says when more matched).

With --verify, tech instead fetches the whole export (needs audit.export),
checks the hash chain as it reads it, like 'tech audit verify', and filters
it itself (--actor then matches the actor ID only).`,
		Example: `  tech audit search --action 'session.*' --since 2026-01-01T00:00:00Z
  tech audit search --actor alice --outcome failure --until 2026-02-01T00:00:00Z
  tech audit search --device clinic-pc-7 --json
  tech audit search --action login --outcome failure --verify`,
		Args: cli.NoArgs,
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			if opts.Max < 1 {
				return errors.New("--max must be at least 1")
			}
			if verify {
				found, err := c.AuditSearchVerified(cmd.Context(), opts)
				if err != nil {
					return err
				}
				warnUnverified(cmd.ErrOrStderr(), "audit log", found.Unverified)
				return printAuditEntries(cmd.OutOrStdout(), found.Entries, asJSON)
			}
			entries, more, err := c.AuditSearch(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if more {
				fmt.Fprintf(cmd.ErrOrStderr(), "tech: warning: more than %d entries match; narrow the search or raise --max\n", opts.Max)
			}
			return printAuditEntries(cmd.OutOrStdout(), entries, asJSON)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&opts.Since, "since", "", "only entries at or after this RFC 3339 time")
	f.StringVar(&opts.Until, "until", "", "only entries before this RFC 3339 time")
	f.StringVar(&opts.Actor, "actor", "", "only entries by this actor (ID or username)")
	f.StringVar(&opts.Action, "action", "", `only this action ("prefix.*" for a family)`)
	f.StringVar(&opts.Device, "device", "", "only entries about this device (name or ID)")
	f.StringVar(&opts.Outcome, "outcome", "", "only entries with this outcome")
	f.IntVar(&opts.Max, "max", 10000, "print at most this many entries")
	f.BoolVar(&verify, "verify", false, "search a verified export instead (needs audit.export)")
	f.BoolVar(&asJSON, "json", false, "print a JSON array")
	return cmd
}
