package trust

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Revoke is a copy of r in which the administrator keys ids no longer
// count toward the threshold (on top of any r already leaves out). The
// threshold stays as signed: revoking keys never lowers it.
func (r *Root) Revoke(ids []KeyID) *Root {
	c := *r
	c.Revoked = slices.Clone(r.Revoked)
	for _, id := range ids {
		if !slices.Contains(c.Revoked, id) {
			c.Revoked = append(c.Revoked, id)
		}
	}
	return &c
}

// VerifyRevocation decodes a revocation list and checks it against r with
// the administrator keys the list itself revokes left out: a list that
// revokes an administrator must be signed by the threshold of the others.
func VerifyRevocation(r *Root, raw []byte, now time.Time) (*RevocationBody, *Document, error) {
	d, err := Decode(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("revocation list: %w", err)
	}
	rv, err := BodyOf[*RevocationBody](d)
	if err != nil {
		return nil, nil, fmt.Errorf("revocation list: %w", err)
	}
	if err := r.Revoke(rv.AdminKeys).Verify(d, now); err != nil {
		return nil, nil, fmt.Errorf("revocation list: %w", err)
	}
	return rv, d, nil
}

// ReviewerID names a recording reviewer key in a revocation list:
// SHA-256 over its text form ("tether-rec1…") as a signed policy lists
// it, surrounding white space removed.
func ReviewerID(recipient string) KeyID {
	return sha256.Sum256([]byte(strings.TrimSpace(recipient)))
}

// NewRevocationBody sorts and de-duplicates each list, so that the body
// encodes.
func NewRevocationBody(certs, reviewers, admins []KeyID) *RevocationBody {
	return &RevocationBody{TechCerts: sortedIDs(certs), ReviewerKeys: sortedIDs(reviewers), AdminKeys: sortedIDs(admins)}
}

func sortedIDs(ids []KeyID) []KeyID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b KeyID) int { return strings.Compare(string(a[:]), string(b[:])) })
	return slices.Compact(out)
}
