package tech

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/tether-support/tether/internal/transport"
)

// call makes one JSON API call to the relay with the stored token.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	return c.callBounded(ctx, method, path, query, body, out, 0)
}

// callBounded is call reading at most limit bytes of the answer (0: no
// limit): a longer one (a relay that does not stop) is refused.
func (c *Client) callBounded(ctx context.Context, method, path string, query url.Values, body, out any, limit int64) error {
	ep, err := c.endpoint()
	if err != nil {
		return err
	}
	hdr, err := doJSONHeaderBounded(ctx, ep, method, path, query, body, out, limit)
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
	return doJSONHeaderBounded(ctx, ep, method, path, query, body, out, 0)
}

// errAnswerTooLong is the error of an answer beyond doJSONHeaderBounded's
// limit.
var errAnswerTooLong = errors.New("the relay's answer is too long")

// boundedReader reads at most n bytes, then fails with errAnswerTooLong.
type boundedReader struct {
	r io.Reader
	n int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errAnswerTooLong
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

// doJSONHeaderBounded is doJSONHeader reading at most limit bytes of the
// answer (0: no limit).
func doJSONHeaderBounded(ctx context.Context, ep transport.Endpoint, method, path string, query url.Values, body, out any, limit int64) (http.Header, error) {
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
	var r io.Reader = resp.Body
	if limit > 0 {
		r = &boundedReader{r: resp.Body, n: limit}
	}
	err = json.NewDecoder(r).Decode(out)
	if errors.Is(err, errAnswerTooLong) {
		err = fmt.Errorf("%s: %w (more than %d bytes)", path, errAnswerTooLong, limit)
	}
	return resp.Header, err
}
