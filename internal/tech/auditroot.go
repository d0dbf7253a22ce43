package tech

import (
	"context"
	"errors"
	"fmt"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/trust"
)

// checkpointKeys are the administrator keys whose audit checkpoints a
// verification checks: required ones (--admin-key), of which at least one
// checkpoint must be served, and the administrators of the pinned trust
// root, whose checkpoints are checked whenever the log carries them.
type checkpointKeys struct {
	required []*trust.PublicKey
	root     *trust.Root
}

// rootAdmins are the newest pinned root's administrator keys, if any.
func (k checkpointKeys) rootAdmins() []*trust.PublicKey {
	if k.root == nil {
		return nil
	}
	return k.root.Body.Admins
}

// pinnedRootNow is the newest root reached from the pinned one through the
// relay's verified chain, or nil when no root is pinned. A relay that
// serves no chain, or one that does not lead from the pin, is an error: a
// client that pinned a root does not fall back to trusting no one.
func (c *Client) pinnedRootNow(ctx context.Context) (*trust.Root, error) {
	pin, err := c.pinnedRoot()
	if err != nil || pin == "" {
		return nil, err
	}
	chain, err := c.fetchChain(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch the trust root to check administrator checkpoints: %w", err)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("the relay serves no trust root, but you pinned %s", pin)
	}
	return c.verifyChain(chain)
}

// checkCheckpoints checks x against every checkpoint countersigned by one
// of keys' administrators; with required keys given, at least one of their
// checkpoints must be there. Checkpoints by keys the newest root no longer
// names are not trusted: a removed administrator's key may be the reason
// it was removed.
func checkCheckpoints(x *audit.ExportLog, keys checkpointKeys, rep *AuditReport) error {
	required := 0
	for _, cs := range x.Countersigned {
		pub, err := cs.Verify()
		if err != nil {
			continue
		}
		req, byRoot := trusted(pub, keys.required), trusted(pub, keys.rootAdmins())
		if !req && !byRoot {
			continue
		}
		what := fmt.Sprintf("the checkpoint countersigned by admin key %s", pub.ID().String()[:16])
		if byRoot && !req {
			what = fmt.Sprintf("the checkpoint countersigned by trust-root administrator key %s", pub.ID().String()[:16])
		}
		if err := extends(x, cs.Head(), what, rep); err != nil {
			return err
		}
		rep.Checkpoints++
		if req {
			required++
		}
	}
	if len(keys.required) > 0 && required == 0 {
		return errors.New("the audit log carries no checkpoint countersigned by the given administrator key(s); run `tech audit checkpoint` first, or checkpoints were removed")
	}
	return nil
}

// trusted reports whether pub is one of admins.
func trusted(pub *trust.PublicKey, admins []*trust.PublicKey) bool {
	for _, a := range admins {
		if a.Equal(pub) {
			return true
		}
	}
	return false
}
