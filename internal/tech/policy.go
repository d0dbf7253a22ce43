package tech

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"

	"tether/internal/api"
	"tether/internal/protocol"
	"tether/internal/sanitize"
)

// PolicyShow prints an organisation's policy (the caller's first when org
// is empty) and the caller's effective policy across their organisations.
func (c *Client) PolicyShow(ctx context.Context, org string, asJSON bool) error {
	q := url.Values{}
	if org != "" {
		q.Set("org", org)
	}
	var resp api.PolicyShow
	if err := c.call(ctx, http.MethodGet, protocol.PathPolicy, q, nil, &resp); err != nil {
		return err
	}
	if asJSON {
		return writeJSON(c.Stdout, resp)
	}
	tw := tabwriter.NewWriter(c.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SETTING\t%s\tEFFECTIVE FOR YOU (%s)\n", sanitize.Display(resp.Org, 64), sanitize.Display(strings.Join(resp.YourOrgs, ", "), 0))
	p, e := resp.Policy, resp.Effective
	rows := [][3]any{
		{"min-length", p.MinLength, e.MinLength}, {"max-length", p.MaxLength, e.MaxLength},
		{"require-classes", p.RequireClasses, e.RequireClasses}, {"password-max-age", p.PasswordMaxAge, e.PasswordMaxAge},
		{"password-history-count", p.PasswordHistoryCount, e.PasswordHistoryCount}, {"password-history", p.PasswordHistory, e.PasswordHistory},
		{"lockout-threshold", p.LockoutThreshold, e.LockoutThreshold}, {"idle-timeout", p.IdleTimeout, e.IdleTimeout},
		{"token-lifetime", p.TokenLifetime, e.TokenLifetime}, {"require-mfa", p.RequireMFA, e.RequireMFA},
		{"record-input", p.RecordInput, e.RecordInput},
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%v\t%v\t%v\n", r[0], r[1], r[2])
	}
	return tw.Flush()
}

// PolicyChanges are the settings `tech policy set` changes (only the
// non-nil fields are sent).
type PolicyChanges = api.PolicyChanges

// PolicySet sends the changes and reports the organisation's new policy.
func (c *Client) PolicySet(ctx context.Context, ch PolicyChanges) error {
	var resp api.PolicySetResponse
	if err := c.call(ctx, http.MethodPost, protocol.PathPolicy, nil, ch, &resp); err != nil {
		return err
	}
	org := sanitize.Display(resp.Org, 64)
	fmt.Fprintf(c.Stderr, "Policy of %s updated; see `tech policy show --org %s`.\n", org, org)
	return nil
}
