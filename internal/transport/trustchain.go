package transport

import (
	"context"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
)

// maxTrustChain bounds the answer of GET /v1/trust/root.
const maxTrustChain = 16 << 20

// GetTrustChain fetches the organisation's root chain the relay serves
// (GET /v1/trust/root, no login). The documents are unverified: the
// caller verifies them from the root it pinned.
func GetTrustChain(ctx context.Context, ep Endpoint) ([][]byte, error) {
	var v api.TrustChain
	if err := getPublic(ctx, ep, protocol.PathTrustRoot, "the trust root", maxTrustChain, &v); err != nil {
		return nil, err
	}
	return v.Documents, nil
}
