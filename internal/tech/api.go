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
	hdr, err := doJSONHeader(ctx, ep, method, path, query, body, out)
	if hdr != nil {
		if aerr := c.learnNextPin(hdr); aerr != nil {
			return aerr
		}
	}
	return err
}

// doJSON sends body as JSON and decodes a 200 answer into out.
func doJSON(ctx context.Context, ep transport.Endpoint, method, path string, query url.Values, body, out any) error {
	_, err := doJSONHeader(ctx, ep, method, path, query, body, out)
	return err
}

// doJSONHeader is doJSON that also returns the answer's header (nil when
// there was no answer).
func doJSONHeader(ctx context.Context, ep transport.Endpoint, method, path string, query url.Values, body, out any) (http.Header, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	u := ep.URL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if ep.Token != "" {
		req.Header.Set("Authorization", "Bearer "+ep.Token)
	}
	resp, err := ep.HTTPClient().Do(req)
	if err != nil {
		return nil, transport.DialError(ep.URL, nil, err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.Header, transport.ResponseError(resp)
	}
	defer resp.Body.Close()
	if out == nil {
		return resp.Header, nil
	}
	return resp.Header, json.NewDecoder(resp.Body).Decode(out)
}
