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

// maxTrustPolicy bounds the answer of GET /v1/trust/policy.
const maxTrustPolicy = 1 << 20

// GetTrustPolicy fetches the signed policy the relay serves (GET
// /v1/trust/policy, no login): nil when none is published. The document is
// unverified: the caller verifies it from the root it pinned.
func GetTrustPolicy(ctx context.Context, ep Endpoint) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL+protocol.PathTrustPolicy, nil)
	if err != nil {
		return nil, err
	}
	resp, err := ep.HTTPClient().Do(req)
	if err != nil {
		return nil, DialError(ep.URL, nil, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the signed policy: %w", ResponseError(resp))
	}
	defer resp.Body.Close()
	var p api.TrustPolicy
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxTrustPolicy)).Decode(&p); err != nil {
		return nil, fmt.Errorf("fetch the signed policy: malformed answer: %w", err)
	}
	return p.Document, nil
}
