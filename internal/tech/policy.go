package tech

import (
	"context"
	"net/http"
	"net/url"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
)

// PolicyShow returns an organisation's policy (the caller's first when org
// is empty) and the caller's effective policy across their organisations.
func (c *Client) PolicyShow(ctx context.Context, org string) (api.PolicyShow, error) {
	q := url.Values{}
	if org != "" {
		q.Set("org", org)
	}
	var resp api.PolicyShow
	err := c.call(ctx, http.MethodGet, protocol.PathPolicy, q, nil, &resp)
	return resp, err
}

// PolicyChanges are the settings `tech policy set` changes (only the
// non-nil fields are sent).
type PolicyChanges = api.PolicyChanges

// PolicySet sends the changes; the answer names the organisation changed.
func (c *Client) PolicySet(ctx context.Context, ch PolicyChanges) (api.PolicySetResponse, error) {
	var resp api.PolicySetResponse
	err := c.call(ctx, http.MethodPost, protocol.PathPolicy, nil, ch, &resp)
	return resp, err
}
