package transport

import (
	"context"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
)

// GetTrustRevocations fetches the signed revocation list the relay serves
// (GET /v1/trust/revocations, no login): nil when none is published. The
// document is unverified: the caller verifies it from the root it pinned.
func GetTrustRevocations(ctx context.Context, ep Endpoint) ([]byte, error) {
	var v api.TrustRevocations
	if err := getPublic(ctx, ep, protocol.PathTrustRevocations, "the revocation list", maxTrustPolicy, &v); err != nil {
		return nil, err
	}
	return v.Document, nil
}
