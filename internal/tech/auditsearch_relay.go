package tech

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
)

// maxAuditPage bounds one page of a search: 1000 entries of at most a few
// KiB each (a consent receipt is the largest) fit many times over.
const maxAuditPage = 32 << 20

// AuditSearch asks the relay for the entries matching o (audit.read), page
// by page, until the log's end or o.Max entries; more reports that o.Max
// stopped it. The relay filters: what it answers cannot be checked
// against the hash chain (AuditSearchVerified can).
func (c *Client) AuditSearch(ctx context.Context, o AuditSearchOptions) (entries []*AuditEntry, more bool, err error) {
	q := url.Values{}
	for k, v := range map[string]string{"since": o.Since, "until": o.Until, "actor": o.Actor, "action": o.Action,
		"device": o.Device, "outcome": o.Outcome} {
		if v != "" {
			q.Set(k, v)
		}
	}
	entries = []*AuditEntry{}
	for {
		var page api.AuditPage
		if err := c.callBounded(ctx, http.MethodGet, protocol.PathAuditSearch, q, nil, &page, maxAuditPage); err != nil {
			return nil, false, err
		}
		for _, e := range page.Entries {
			if o.Max > 0 && len(entries) == o.Max {
				return entries, true, nil
			}
			entries = append(entries, &AuditEntry{Seq: e.Seq, Time: e.Time, ActorID: e.ActorID, Action: e.Action,
				Target: e.Target, Outcome: e.Outcome, Source: e.Source, Details: e.Details})
		}
		next, _ := strconv.ParseUint(q.Get("after"), 10, 64)
		if page.Next == 0 || page.Next <= next {
			return entries, false, nil
		}
		q.Set("after", strconv.FormatUint(page.Next, 10))
	}
}
