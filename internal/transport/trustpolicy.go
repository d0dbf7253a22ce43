package transport

import (
	"context"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
)

// maxTrustPolicy bounds the answer of GET /v1/trust/policy.
const maxTrustPolicy = 1 << 20

// GetTrustPolicy fetches the signed policy the relay serves (GET
// /v1/trust/policy, no login): nil when none is published. The document is
// unverified: the caller verifies it from the root it pinned.
func GetTrustPolicy(ctx context.Context, ep Endpoint) ([]byte, error) {
	var v api.TrustPolicy
	if err := getPublic(ctx, ep, protocol.PathTrustPolicy, "the signed policy", maxTrustPolicy, &v); err != nil {
		return nil, err
	}
	return v.Document, nil
}
