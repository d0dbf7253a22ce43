package transport

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"tether/internal/api"
	"tether/internal/protocol"
)

// GetTrustRevocations fetches the signed revocation list the relay serves
// (GET /v1/trust/revocations, no login): nil when none is published. The
// document is unverified: the caller verifies it from the root it pinned.
func GetTrustRevocations(ctx context.Context, ep Endpoint) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL+protocol.PathTrustRevocations, nil)
	if err != nil {
		return nil, err
	}
	resp, err := ep.HTTPClient().Do(req)
	if err != nil {
		return nil, DialError(ep.URL, nil, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the revocation list: %w", ResponseError(resp))
	}
	defer resp.Body.Close()
	var v api.TrustRevocations
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxTrustPolicy)).Decode(&v); err != nil {
		return nil, fmt.Errorf("fetch the revocation list: malformed answer: %w", err)
	}
	return v.Document, nil
}
