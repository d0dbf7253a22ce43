package tech

import (
	"context"
	"net/http"
	"net/url"
)

// list fetches a JSON array of T from the relay; an empty list is a
// non-nil empty slice. The strings in it are the relay's, raw: whoever
// shows them makes them inert first.
func list[T any](ctx context.Context, c *Client, path string, q url.Values) ([]T, error) {
	var items []T
	if err := c.call(ctx, http.MethodGet, path, q, nil, &items); err != nil {
		return nil, err
	}
	if items == nil {
		items = []T{}
	}
	return items, nil
}
