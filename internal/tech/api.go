package tech

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"

	"github.com/tether-support/tether/internal/transport"
)

// call makes one JSON API call to the relay with the stored token.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	ep, err := c.endpoint()
	if err != nil {
		return err
	}
	return doJSON(ctx, ep, method, path, query, body, out)
}

// doJSON sends body as JSON and decodes a 200 answer into out.
func doJSON(ctx context.Context, ep transport.Endpoint, method, path string, query url.Values, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	u := ep.URL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if ep.Token != "" {
		req.Header.Set("Authorization", "Bearer "+ep.Token)
	}
	resp, err := ep.HTTPClient().Do(req)
	if err != nil {
		return transport.DialError(ep.URL, nil, err)
	}
	if resp.StatusCode != http.StatusOK {
		return transport.ResponseError(resp)
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
