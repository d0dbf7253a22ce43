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

// maxTrustChain bounds the answer of GET /v1/trust/root.
const maxTrustChain = 16 << 20

// GetTrustChain fetches the organisation's root chain the relay serves
// (GET /v1/trust/root, no login). The documents are unverified: the
// caller verifies them from the root it pinned.
func GetTrustChain(ctx context.Context, ep Endpoint) ([][]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL+protocol.PathTrustRoot, nil)
	if err != nil {
		return nil, err
	}
	resp, err := ep.HTTPClient().Do(req)
	if err != nil {
		return nil, DialError(ep.URL, nil, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch the trust root: %w", ResponseError(resp))
	}
	defer resp.Body.Close()
	var c api.TrustChain
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxTrustChain)).Decode(&c); err != nil {
		return nil, fmt.Errorf("fetch the trust root: malformed answer: %w", err)
	}
	return c.Documents, nil
}
