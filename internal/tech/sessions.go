package tech

import (
	"context"
	"net/http"
	"net/url"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
)

// Sessions lists sessions; with active, only live ones.
func (c *Client) Sessions(ctx context.Context, active bool) ([]api.Session, error) {
	q := url.Values{}
	if active {
		q.Set("active", "1")
	}
	return list[api.Session](ctx, c, protocol.PathSessions, q)
}

// Session returns one session.
func (c *Client) Session(ctx context.Context, id string) (api.Session, error) {
	var s api.Session
	err := c.call(ctx, http.MethodGet, protocol.PathSessions+"/"+url.PathEscape(id), nil, nil, &s)
	return s, err
}

// SessionKill ends a live session.
func (c *Client) SessionKill(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodPost, protocol.PathSessions+"/"+url.PathEscape(id)+"/kill", nil, nil, nil)
}
