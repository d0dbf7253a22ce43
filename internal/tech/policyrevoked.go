package tech

import (
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/trust"
)

// openPolicy verifies the signed policy raw as a device would: under root
// less the administrator keys the revocation list rv revokes (nil: the
// relay serves none), and refusing one that lists a recording recipient
// whose reviewer key rv revokes.
func openPolicy(root *trust.Root, rv *currentList, raw []byte, now time.Time) (*trust.PolicyBody, *trust.Document, error) {
	if rv != nil {
		root = root.Revoke(rv.body.AdminKeys)
	}
	body, d, err := trust.Open[*trust.PolicyBody](root, raw, now)
	if err != nil {
		return nil, nil, fmt.Errorf("the relay's signed policy does not verify: %w", err)
	}
	if rv == nil {
		return body, d, nil
	}
	for _, r := range body.Recipients {
		if rv.body.RevokesReviewer(trust.ReviewerID(r)) {
			return nil, nil, fmt.Errorf("the relay's signed policy version %d lists a recording recipient whose reviewer key revocation list version %d revokes", d.Version, rv.version)
		}
	}
	return body, d, nil
}
