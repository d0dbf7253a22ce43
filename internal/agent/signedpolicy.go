package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/trust"
)

// signedPolicy is a session policy the organisation's administrators
// signed, verified from the pinned root for one session.
type signedPolicy struct {
	body    *trust.PolicyBody
	version uint64
	// root is the newest root the session's chain verified to from the
	// pin, without the administrator keys the revocation list revokes; the
	// technician's certificate is checked against it too.
	root *trust.Root
	// group is this device's own group (from its enrollment), which the
	// signed unattended groups and the certificate's groups are checked
	// against.
	group string
	// revoked is the revocation list in force.
	revoked revocations
}

// policySource fetches and verifies the signed policy before each session
// of a device that pins a trust root. A nil source (no pin) yields no
// signed policy: the relay is then trusted as before.
type policySource struct {
	ep    transport.Endpoint
	pin   string
	group string
	home  string
	// mu serialises the highest-version file among concurrent sessions.
	mu *sync.Mutex
}

// policySource is the source for sessions offered now, or nil without a
// pinned root. Called from the connection loop, which owns a.st.
func (a *Agent) policySource() *policySource {
	if a.st.TrustRoot == "" {
		return nil
	}
	return &policySource{ep: a.endpoint(), pin: a.st.TrustRoot, group: a.st.Group, home: a.cfg.Home, mu: &a.policyMu}
}

// fetch gets the relay's root chain, revocation list and signed policy and
// verifies them (verify).
func (ps *policySource) fetch(ctx context.Context) (*signedPolicy, error) {
	if ps == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	chain, err := transport.GetTrustChain(ctx, ps.ep)
	if err != nil {
		return nil, fmt.Errorf("signed policy: %w", err)
	}
	revs, err := transport.GetTrustRevocations(ctx, ps.ep)
	if err != nil {
		return nil, fmt.Errorf("revocation list: %w", err)
	}
	raw, err := transport.GetTrustPolicy(ctx, ps.ep)
	if err != nil {
		return nil, fmt.Errorf("signed policy: %w", err)
	}
	return ps.verify(chain, revs, raw, time.Now())
}

// verify follows chain from the pin, accepts the revocation list revs
// (nil: the relay serves none; see acceptRevocations), and opens the
// signed policy raw (nil: the relay serves none) with the newest root
// reached less the revoked administrator keys, which the result keeps for
// the rest of the session's checks. A policy listing a revoked reviewer
// key is refused.
func (ps *policySource) verify(chain [][]byte, revs, raw []byte, t time.Time) (*signedPolicy, error) {
	fp, err := trust.ParseFingerprint(ps.pin)
	if err != nil {
		return nil, err
	}
	root, err := trust.Follow(chain, fp, t)
	if err != nil {
		return nil, fmt.Errorf("signed policy: the relay's trust root: %w", err)
	}
	revoked, err := ps.acceptRevocations(root, revs, t)
	if err != nil {
		return nil, err
	}
	root = root.Revoke(revoked.body.AdminKeys)
	if raw == nil {
		return nil, fmt.Errorf("the relay serves no signed policy, but this device pins trust root %s; an administrator publishes one with `tech policy sign`", ps.pin)
	}
	body, d, err := trust.Open[*trust.PolicyBody](root, raw, t)
	if err != nil {
		return nil, fmt.Errorf("the relay's signed policy does not verify: %w", err)
	}
	if err := ps.acceptVersion(d.Version); err != nil {
		return nil, fmt.Errorf("the relay's signed policy: %w", err)
	}
	if err := checkRevokedReviewers(body, d.Version, revoked); err != nil {
		return nil, err
	}
	return &signedPolicy{body: body, version: d.Version, root: root, group: ps.group, revoked: revoked}, nil
}

// policyVersionPath holds the highest policy version this device has seen.
func policyVersionPath(home string) string { return filepath.Join(home, "policy-version.json") }

// acceptVersion refuses v below the highest version seen and records v
// when it is higher (0600).
func (ps *policySource) acceptVersion(v uint64) error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	pin, err := readPolicyVersion(ps.home)
	if err != nil {
		return err
	}
	next, err := pin.Accept(v)
	if err != nil || next.Highest == pin.Highest {
		return err
	}
	b, err := json.Marshal(next)
	if err != nil {
		return err
	}
	path := policyVersionPath(ps.home)
	if err := os.WriteFile(path+".tmp", b, 0o600); err != nil {
		return fmt.Errorf("record the signed policy version: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("record the signed policy version: %w", err)
	}
	return nil
}

// readPolicyVersion reads the highest policy version seen; none yet is 0.
func readPolicyVersion(home string) (trust.Pinned, error) {
	p := trust.Pinned{Kind: trust.KindPolicy}
	b, err := os.ReadFile(policyVersionPath(home))
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("read the signed policy version: %w", err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("%s is corrupt: %w", policyVersionPath(home), err)
	}
	p.Kind = trust.KindPolicy
	return p, nil
}

// shortKey abbreviates a recipient key for a message.
func shortKey(k string) string {
	if len(k) > 24 {
		return k[:24] + "…"
	}
	return k
}

// rolesLabel names roles for a message.
func rolesLabel(roles []string) string {
	if len(roles) == 0 {
		return "(none named)"
	}
	return strings.Join(roles, ", ")
}
