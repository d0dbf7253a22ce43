package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tether-support/tether/internal/cli"
	"github.com/tether-support/tether/internal/tech"
)

func newPolicyCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "policy",
		Example: "  tech policy show\n  tech policy set --min-length 14 --require-mfa",
		Short:   "Show or change an organisation's password and sign-in policy",
		Long: `policy shows and changes an organisation's policy. A user in several
organisations gets the strictest value of each setting across them (longest
minimum length, shortest expiry, longest history, lowest lockout threshold,
shortest idle timeout, MFA if any requires it).`,
	}
	cmd.AddCommand(newPolicyShowCmd(g), newPolicySetCmd(g), newPolicySignCmd(g))
	return cmd
}

func newPolicyShowCmd(g *globals) *cobra.Command {
	var org string
	var asJSON, verify bool
	cmd := &cobra.Command{
		Use:   "show [--org ORG] [--json] [--verify]",
		Short: "Show an organisation's policy and your effective one",
		Long: `show prints an organisation's password and sign-in policy. With --verify it
instead fetches the signed session policy, verifies it against the trust root
you pinned less the administrator keys the relay's revocation list revokes (as
a device does), prints it as JSON and exits 1 if it is missing or does not
verify.`,
		Example: `  tech policy show
  tech policy show --org icu --json
  tech policy show --verify`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			if verify {
				v, err := c.PolicyVerify(cmd.Context())
				if err != nil {
					return err
				}
				return printSignedPolicy(cmd.OutOrStdout(), cmd.ErrOrStderr(), v)
			}
			resp, err := c.PolicyShow(cmd.Context(), org)
			if err != nil {
				return err
			}
			return printPolicy(cmd.OutOrStdout(), resp, asJSON)
		},
	}
	cmd.Flags().StringVar(&org, "org", "", "organisation (default: your first)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&verify, "verify", false, "verify and print the signed session policy instead")
	return cmd
}

// policyFlags holds `tech policy set`'s flags before they become changes.
type policyFlags struct {
	org                                       string
	minLength, lockout, historyCount, classes int
	retentionDays                             int
	idle, maxAge, history, lifetime           string
	requireMFA                                bool
	recordInput                               bool
	screenMaxFPS                              int
	directPath                                string
}

func newPolicySetCmd(g *globals) *cobra.Command {
	var o policyFlags
	cmd := &cobra.Command{
		Use: "set [--org ORG] [--idle-timeout DUR] [--min-length N] [--lockout-threshold N] [--password-max-age DUR] " +
			"[--password-history DUR] [--require-mfa] [--record-input[=false]] [--screen-max-fps N] [--direct-path allow|deny]",
		Short: "Change an organisation's policy (needs policy.manage)",
		Long: `set changes only the settings given. Durations are Go durations (15m, 12h) or
whole days (90d). Ranges: --min-length 8..64 (default 12); --password-max-age 0
(off, default) or 30d..180d — an expired password forces a change at the next
sign-in and never locks; --password-history 0..365d and --password-history-count
0..24 forbid reusing recent passwords; --lockout-threshold 1..20 (default 5);
--idle-timeout 1s..24h (default 15m) signs idle users out; --token-lifetime
(default 12h) bounds any sign-in; --require-classes 0..4 (default 0, off);
--require-mfa forces two-factor enrolment at the next sign-in
(--require-mfa=false turns it off). Sessions: --record-input (default off)
also records what technicians type, and in desktop sessions their mouse and
keyboard input; --screen-max-fps 5..60 (default 30) caps the frames per
second of desktop sessions. Retention: --retention-days 30..3650 (default
365) keeps recordings and session records that long after their session:
the relay's daily job deletes older ones, except recordings on legal hold
('tech recordings hold'), and uses the longest retention of any
organisation. --direct-path deny (default allow) keeps every session on
the relay path: technician and device never open a peer-to-peer connection
(for sites that forbid peer-to-peer traffic).`,
		Example: `  tech policy set --min-length 14 --lockout-threshold 3 --require-mfa
  tech policy set --org icu --idle-timeout 5m --password-max-age 90d --password-history 365d
  tech policy set --screen-max-fps 15 --record-input=false
  tech policy set --retention-days 2190    # six years
  tech policy set --direct-path deny`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ch, err := o.changes(cmd.Flags())
			if err != nil {
				return err
			}
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			resp, err := c.PolicySet(cmd.Context(), ch)
			if err != nil {
				return err
			}
			printPolicySet(cmd.ErrOrStderr(), resp)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.org, "org", "", "organisation (default: your first)")
	f.IntVar(&o.minLength, "min-length", 0, "shortest password, 8..64")
	f.IntVar(&o.lockout, "lockout-threshold", 0, "failed sign-ins that lock an account, 1..20")
	f.IntVar(&o.historyCount, "password-history-count", 0, "forbid reusing the last N passwords, 0..24")
	f.IntVar(&o.classes, "require-classes", 0, "character classes (lower, upper, digit, symbol) required, 0..4")
	f.StringVar(&o.idle, "idle-timeout", "", "sign users out after this long idle, 1s..24h")
	f.StringVar(&o.maxAge, "password-max-age", "", "force a password change after this long: 0 or 30d..180d")
	f.StringVar(&o.history, "password-history", "", "forbid reusing passwords retired within this long, 0..365d")
	f.StringVar(&o.lifetime, "token-lifetime", "", "absolute lifetime of a sign-in")
	f.BoolVar(&o.requireMFA, "require-mfa", false, "require two-factor sign-in")
	f.IntVar(&o.retentionDays, "retention-days", 0, "keep recordings and session records this many days after the session, 30..3650 (default 365)")
	f.BoolVar(&o.recordInput, "record-input", false, "also record what technicians type (off by default: it captures typed passwords)")
	f.IntVar(&o.screenMaxFPS, "screen-max-fps", 0, "frames per second at most in desktop sessions, 5..60 (default 30)")
	f.StringVar(&o.directPath, "direct-path", "", "allow or deny the direct peer-to-peer path between technician and device (default allow)")
	return cmd
}

// changes returns the settings whose flags were given.
func (o *policyFlags) changes(f *pflag.FlagSet) (tech.PolicyChanges, error) {
	ch := tech.PolicyChanges{Org: o.org}
	ints := map[string]struct {
		v   int
		dst **int
	}{"min-length": {o.minLength, &ch.MinLength}, "lockout-threshold": {o.lockout, &ch.LockoutThreshold},
		"password-history-count": {o.historyCount, &ch.PasswordHistoryCount}, "require-classes": {o.classes, &ch.RequireClasses},
		"screen-max-fps": {o.screenMaxFPS, &ch.ScreenMaxFPS}, "retention-days": {o.retentionDays, &ch.RetentionDays}}
	for name, x := range ints {
		if f.Changed(name) {
			v := x.v
			*x.dst = &v
		}
	}
	strs := map[string]struct {
		v   string
		dst **string
	}{"idle-timeout": {o.idle, &ch.IdleTimeout}, "password-max-age": {o.maxAge, &ch.PasswordMaxAge},
		"password-history": {o.history, &ch.PasswordHistory}, "token-lifetime": {o.lifetime, &ch.TokenLifetime}}
	for name, x := range strs {
		if f.Changed(name) {
			v := x.v
			*x.dst = &v
		}
	}
	if f.Changed("require-mfa") {
		ch.RequireMFA = &o.requireMFA
	}
	if f.Changed("record-input") {
		ch.RecordInput = &o.recordInput
	}
	if f.Changed("direct-path") {
		ch.DirectPath = &o.directPath
	}
	if f.NFlag() == 0 || (f.NFlag() == 1 && f.Changed("org")) {
		return ch, errors.New("nothing to change: give at least one setting (see `tech policy set --help`)")
	}
	return ch, nil
}

func newPolicySignCmd(g *globals) *cobra.Command {
	var o tech.PolicySignOptions
	var days int
	var yes bool
	cmd := &cobra.Command{
		Use:   "sign [--passphrase-file FILE] [--from FILE] [--out FILE] [--yes]",
		Short: "Sign the session policy agents enforce with your trust administrator key",
		Long: `sign builds the session policy from the relay's current settings (recording
recipients, record-input, each role's capabilities, unattended device groups,
idle and absolute limits) or from --from FILE (JSON), shows on stderr how it
differs from the signed policy in force, asks for confirmation (--yes skips it),
signs it with your administrator key (admin.key) and publishes it with the next
version (needs trust.manage). Agents that pin the trust root refuse sessions the
signed policy does not allow. When the root needs more than one signature, pass
--out FILE; the other administrators run 'tech trust sign FILE', then
'tech trust publish FILE'.`,
		Example: `  tech policy sign --passphrase-file ~/.trust-pass
  tech policy sign --from policy.json --out policy.doc`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			o.Valid = time.Duration(days) * 24 * time.Hour
			o.Ask = askPassphrase(cmd.ErrOrStderr())
			o.Confirm = confirmPolicy(cmd.InOrStdin(), cmd.ErrOrStderr(), yes)
			out, err := c.PolicySign(cmd.Context(), o)
			printPolicyOutcome(cmd.ErrOrStderr(), out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.From, "from", "", "(ext) sign the JSON policy in FILE instead of the relay's settings")
	f.StringVar(&o.Out, "out", "", "write the signed policy to FILE for more signatures instead of publishing it")
	f.BoolVar(&yes, "yes", false, "(ext) sign without asking")
	f.IntVar(&days, "valid-days", 90, "(ext) days until the signed policy expires")
	passphraseFlag(cmd, &o.Passphrase)
	return cmd
}
