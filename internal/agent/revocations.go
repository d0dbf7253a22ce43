package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/trust"
)

// revocations is the signed revocation list in force for one session: its
// body (empty when none was ever published) and version (0 then).
type revocations struct {
	body    *trust.RevocationBody
	version uint64
}

// revocationVersionPath holds the highest revocation list version this
// device has seen.
func revocationVersionPath(home string) string { return filepath.Join(home, "revocation-version.json") }

// fetchRevocations gets the relay's revocation list and accepts it
// (acceptRevocations).
func (ps *policySource) fetchRevocations(ctx context.Context, root *trust.Root, now time.Time) (revocations, error) {
	raw, err := transport.GetTrustRevocations(ctx, ps.ep)
	if err != nil {
		return revocations{}, fmt.Errorf("revocation list: %w", err)
	}
	return ps.acceptRevocations(root, raw, now)
}

// acceptRevocations verifies the revocation list raw (nil: the relay
// serves none) against root (the threshold without the administrator keys
// it revokes). A version lower than the highest seen, or no list once one
// was seen, is a rollback and refused; a higher version is recorded.
func (ps *policySource) acceptRevocations(root *trust.Root, raw []byte, now time.Time) (revocations, error) {
	if raw == nil {
		seen, err := readPinned(revocationVersionPath(ps.home), trust.KindRevocation)
		if err != nil {
			return revocations{}, err
		}
		if seen.Highest > 0 {
			return revocations{}, fmt.Errorf("the relay serves no revocation list, but this device has seen version %d: %w", seen.Highest, trust.ErrRollback)
		}
		return revocations{body: &trust.RevocationBody{}}, nil
	}
	body, d, err := trust.VerifyRevocation(root, raw, now)
	if err != nil {
		return revocations{}, fmt.Errorf("the relay's revocation list does not verify: %w", err)
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if err := acceptPinned(revocationVersionPath(ps.home), trust.KindRevocation, d.Version); err != nil {
		return revocations{}, fmt.Errorf("the relay's revocation list: %w", err)
	}
	return revocations{body: body, version: d.Version}, nil
}

// acceptPinned refuses version v of kind below the highest recorded in
// path and records v when it is higher (0600). The caller serialises.
func acceptPinned(path string, kind trust.Kind, v uint64) error {
	pin, err := readPinned(path, kind)
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
	if err := os.WriteFile(path+".tmp", b, 0o600); err != nil {
		return fmt.Errorf("record the %s version: %w", kind, err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("record the %s version: %w", kind, err)
	}
	return nil
}

// readPinned reads the highest version of kind recorded in path; none yet is 0.
func readPinned(path string, kind trust.Kind) (trust.Pinned, error) {
	p := trust.Pinned{Kind: kind}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, fmt.Errorf("read the %s version: %w", kind, err)
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return p, fmt.Errorf("%s is corrupt: %w", path, err)
	}
	p.Kind = kind
	return p, nil
}

// checkRevokedReviewers refuses a signed policy that lists a recording
// recipient whose reviewer key is revoked.
func checkRevokedReviewers(body *trust.PolicyBody, version uint64, rv revocations) error {
	for _, r := range body.Recipients {
		if rv.body.RevokesReviewer(trust.ReviewerID(r)) {
			return fmt.Errorf("signed policy version %d lists recording recipient %s, whose reviewer key revocation list version %d revokes; an administrator signs a policy without it", version, shortKey(r), rv.version)
		}
	}
	return nil
}

// checkCert refuses the technician's verified certificate certRaw when
// the revocation list revokes it, when it no longer verifies without the
// revoked administrator keys, or when it does not cover the device's group
// (a certificate with no groups covers every group, as a relay user with
// no device groups may reach every device). Nil certRaw checks nothing.
func checkCert(certRaw []byte, sp *signedPolicy, now time.Time) error {
	if certRaw == nil || sp == nil {
		return nil
	}
	cert, d, err := trust.Open[*trust.TechCertBody](sp.root, certRaw, now)
	if err != nil {
		return fmt.Errorf("refusing the technician's certificate without revoked administrator keys: %w", err)
	}
	if id := trust.CertID(d); sp.revoked.body != nil && sp.revoked.body.RevokesCert(id) {
		return fmt.Errorf("refusing %s (%s): their certificate %s is revoked (revocation list version %d)", cert.Name, cert.Username, id, sp.revoked.version)
	}
	if len(cert.DeviceGroups) > 0 && !slices.Contains(cert.DeviceGroups, sp.group) {
		return fmt.Errorf("refusing %s (%s): their certificate covers device groups %s, not this device's group %q", cert.Name, cert.Username, rolesLabel(cert.DeviceGroups), sp.group)
	}
	return nil
}
