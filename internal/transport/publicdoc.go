package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// getPublic fetches the public JSON document the relay serves at path (no
// login) into v, reading at most limit bytes; what names it in errors
// ("the signed policy").
func getPublic(ctx context.Context, ep Endpoint, path, what string, limit int64, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL+path, nil)
	if err != nil {
		return err
	}
	// A client of its own for one request: a long-lived caller (the agent,
	// before every session) must not leave an idle connection behind each
	// time until the transport's idle timeout.
	c := ep.HTTPClient()
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		return DialError(ep.URL, nil, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s: %w", what, ResponseError(resp))
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, limit)).Decode(v); err != nil {
		return fmt.Errorf("fetch %s: malformed answer: %w", what, err)
	}
	return nil
}
