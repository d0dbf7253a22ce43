package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/sanitize"
)

// printPolicy prints an organisation's policy next to the caller's
// effective one, as a table or JSON.
func printPolicy(w io.Writer, resp api.PolicyShow, asJSON bool) error {
	if asJSON {
		return writeJSON(w, resp)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SETTING\t%s\tEFFECTIVE FOR YOU (%s)\n", sanitize.Display(resp.Org, 64), sanitize.Display(strings.Join(resp.YourOrgs, ", "), 0))
	p, e := resp.Policy, resp.Effective
	rows := [][3]any{
		{"min-length", p.MinLength, e.MinLength}, {"max-length", p.MaxLength, e.MaxLength},
		{"require-classes", p.RequireClasses, e.RequireClasses}, {"password-max-age", p.PasswordMaxAge, e.PasswordMaxAge},
		{"password-history-count", p.PasswordHistoryCount, e.PasswordHistoryCount}, {"password-history", p.PasswordHistory, e.PasswordHistory},
		{"lockout-threshold", p.LockoutThreshold, e.LockoutThreshold}, {"idle-timeout", p.IdleTimeout, e.IdleTimeout},
		{"token-lifetime", p.TokenLifetime, e.TokenLifetime}, {"require-mfa", p.RequireMFA, e.RequireMFA},
		{"record-input", p.RecordInput, e.RecordInput}, {"screen-max-fps", p.ScreenMaxFPS, e.ScreenMaxFPS},
		{"retention-days", p.RetentionDays, e.RetentionDays},
		{"direct-path", sanitize.Display(p.DirectPath, 8), sanitize.Display(e.DirectPath, 8)},
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%v\t%v\t%v\n", r[0], r[1], r[2])
	}
	return tw.Flush()
}

// printPolicySet tells who changed a policy where to see it.
func printPolicySet(stderr io.Writer, resp api.PolicySetResponse) {
	org := sanitize.Display(resp.Org, 64)
	fmt.Fprintf(stderr, "Policy of %s updated; see `tech policy show --org %s`.\n", org, org)
}
