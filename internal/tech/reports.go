package tech

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
)

// maxSessionReports bounds the session report's answer: what the relay
// sends at most (api.MaxReportSessions, api.MaxReportFiles) with paths
// of typical length fits well within it.
const maxSessionReports = 256 << 20

// SessionReports fetches the session report for the sessions requested at
// or after since and before until (RFC 3339; empty is open), oldest first
// (audit.read).
func (c *Client) SessionReports(ctx context.Context, since, until string) (api.SessionReports, error) {
	q := url.Values{}
	for _, p := range []struct{ flag, v string }{{"since", since}, {"until", until}} {
		if p.v == "" {
			continue
		}
		if _, err := time.Parse(time.RFC3339, p.v); err != nil {
			return api.SessionReports{}, fmt.Errorf("bad --%s %q: use RFC 3339, e.g. 2026-01-31T00:00:00Z", p.flag, p.v)
		}
		q.Set(p.flag, p.v)
	}
	var r api.SessionReports
	if err := c.callBounded(ctx, http.MethodGet, protocol.PathReportSessions, q, nil, &r, maxSessionReports); err != nil {
		return api.SessionReports{}, err
	}
	if r.Sessions == nil {
		r.Sessions = []api.SessionReport{}
	}
	return r, nil
}
