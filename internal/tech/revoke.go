package tech

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/trust"
	"github.com/tether-support/tether/recordings"
)

// DefaultRevocationValidity is how long a signed revocation list is valid
// by default; agents refuse an expired one, so publish a new version
// before then.
const DefaultRevocationValidity = 365 * 24 * time.Hour

// RevokeOptions are the flags of `tech trust revoke`: what to add to the
// revocation list in force.
type RevokeOptions struct {
	// Users are technicians whose newest stored certificate is revoked.
	Users []string
	// Certs are technician certificate IDs (hex).
	Certs []string
	// Reviewers are recording reviewer public keys ("tether-rec1…").
	Reviewers []string
	// Admins are administrator key IDs (hex).
	Admins []string
	// Out receives the list signed by this administrator when the root
	// needs more signatures (`tech trust sign`, `tech trust publish`).
	Out string
	// Valid is how long the list is valid; 0 is the default.
	Valid time.Duration
	// Confirm is shown the plan before anything is signed and says
	// whether to go on; nil goes on (--yes).
	Confirm func(*RevokePlan) bool
	Passphrase
}

// RevokePlan is the revocation list RevokeSign is about to sign.
type RevokePlan struct {
	// Current is the list in force, nil when none is published.
	Current *trust.RevocationBody
	// Next is the list to sign, as Version.
	Next    *trust.RevocationBody
	Version uint64
	// Added names each newly revoked ID ("certificate ID (of alice)").
	Added []string
	// Need is how many administrators must sign, without revoked keys.
	Need int
}

// RevokeOutcome is what RevokeSign did.
type RevokeOutcome struct {
	// Published is set when the relay took the list.
	Published *PublishedPolicy
	// Wrote is set when the list went to a file for more signatures.
	Wrote *WrittenDocument
}

// RevokeSign adds what o names to the revocation list in force, lets
// Confirm see what changes, signs the next version with this
// administrator's key and publishes it (or writes it to Out when the
// root's threshold needs more signatures).
func (c *Client) RevokeSign(ctx context.Context, o RevokeOptions) (RevokeOutcome, error) {
	var out RevokeOutcome
	if o.Valid == 0 {
		o.Valid = DefaultRevocationValidity
	}
	if err := checkValidity(o.Valid); err != nil {
		return out, err
	}
	root, err := c.currentRoot(ctx)
	if err != nil {
		return out, err
	}
	plan, err := c.planRevocation(ctx, root, o)
	if err != nil {
		return out, err
	}
	if err := needOut(plan.Need, o.Out); err != nil {
		return out, err
	}
	if o.Confirm != nil && !o.Confirm(plan) {
		return out, ErrNotConfirmed
	}
	t := time.Now()
	doc, err := trust.NewDocument(plan.Next, plan.Version, t, t.Add(o.Valid))
	if err != nil {
		return out, err
	}
	allow := func(key *trust.PrivateKey) error {
		if plan.Next.RevokesAdmin(key.Public().ID()) {
			return fmt.Errorf("your administrator key %s is revoked by this list: the other administrators must sign it", key.Public().ID())
		}
		return nil
	}
	out.Published, out.Wrote, err = signThenRelease(c, doc, plan.Need, o.Out, o.Passphrase, allow, func() (*PublishedPolicy, error) {
		return c.publishSigned(ctx, protocol.PathTrustRevocations, doc.Encode())
	})
	return out, err
}

// planRevocation reads the list in force and adds what o names.
func (c *Client) planRevocation(ctx context.Context, root *trust.Root, o RevokeOptions) (*RevokePlan, error) {
	plan := &RevokePlan{Version: 1}
	cur, err := c.currentRevocations(ctx, root)
	if err != nil {
		return nil, err
	}
	next := &trust.RevocationBody{}
	if cur != nil {
		plan.Current, plan.Version = cur.body, cur.version+1
		next = cur.body
	}
	certs, reviewers, admins := slices.Clone(next.TechCerts), slices.Clone(next.ReviewerKeys), slices.Clone(next.AdminKeys)
	add := func(list *[]trust.KeyID, id trust.KeyID, label string) {
		if !slices.Contains(*list, id) {
			*list = append(*list, id)
			plan.Added = append(plan.Added, label)
		}
	}
	for _, name := range o.Users {
		id, err := c.userCertID(ctx, root, name)
		if err != nil {
			return nil, err
		}
		add(&certs, id, fmt.Sprintf("technician certificate %s (of %s)", id, name))
	}
	for _, s := range o.Certs {
		id, err := parseKeyID(s)
		if err != nil {
			return nil, fmt.Errorf("--cert %q: %w", s, err)
		}
		add(&certs, id, "technician certificate "+id.String())
	}
	for _, s := range o.Reviewers {
		r, err := recordings.ParseRecipient(s)
		if err != nil {
			return nil, fmt.Errorf("--reviewer: %w", err)
		}
		add(&reviewers, trust.ReviewerID(r.String()), "reviewer key "+shortRecipient(r.String()))
	}
	for _, s := range o.Admins {
		id, err := parseKeyID(s)
		if err != nil {
			return nil, fmt.Errorf("--admin %q: %w", s, err)
		}
		if !slices.ContainsFunc(root.Body.Admins, func(k *trust.PublicKey) bool { return k.ID() == id }) {
			return nil, fmt.Errorf("--admin %s is not an administrator key of the trust root (see `tech trust show`)", id)
		}
		add(&admins, id, "administrator key "+id.String())
	}
	if len(plan.Added) == 0 {
		return nil, errors.New("nothing new to revoke: name --user, --cert, --reviewer or --admin not already revoked")
	}
	plan.Next = trust.NewRevocationBody(certs, reviewers, admins)
	left := len(root.Body.Admins) - len(plan.Next.AdminKeys)
	if left < int(root.Body.Threshold) {
		return nil, fmt.Errorf("revoking leaves %d administrator keys, below the threshold of %d: change the root first (`tech trust add-admin`)", left, root.Body.Threshold)
	}
	plan.Need = int(root.Body.Threshold)
	return plan, nil
}

// currentList is a verified revocation list and its version.
type currentList struct {
	body    *trust.RevocationBody
	version uint64
}

// currentRevocations is the relay's revocation list, verified against
// root; nil when none is published.
func (c *Client) currentRevocations(ctx context.Context, root *trust.Root) (*currentList, error) {
	ep, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	raw, err := transport.GetTrustRevocations(ctx, ep)
	if err != nil || raw == nil {
		return nil, err
	}
	body, d, err := trust.VerifyRevocation(root, raw, time.Now())
	if err != nil && !errors.Is(err, trust.ErrExpired) {
		return nil, fmt.Errorf("refusing the relay's revocation list: %w", err)
	}
	if err != nil {
		// An expired list is still what was revoked; its version counts.
		d, derr := trust.Decode(raw)
		if derr != nil {
			return nil, derr
		}
		b, berr := trust.BodyOf[*trust.RevocationBody](d)
		if berr != nil {
			return nil, berr
		}
		return &currentList{body: b, version: d.Version}, nil
	}
	return &currentList{body: body, version: d.Version}, nil
}

// userCertID is the ID of the newest certificate the relay stores for
// name, checked against root (a certificate it did not sign is refused).
func (c *Client) userCertID(ctx context.Context, root *trust.Root, name string) (trust.KeyID, error) {
	var facts api.CertifyFacts
	if err := c.call(ctx, http.MethodGet, protocol.PathTrustCerts+"/"+url.PathEscape(name), nil, nil, &facts); err != nil {
		return trust.KeyID{}, err
	}
	if facts.Cert == nil {
		return trust.KeyID{}, fmt.Errorf("the relay holds no certificate for %s; revoke one by ID with --cert", name)
	}
	// At the zero time nothing has expired: an expired certificate can
	// still be revoked.
	cert, d, err := trust.Open[*trust.TechCertBody](root, facts.Cert, time.Time{})
	if err != nil {
		return trust.KeyID{}, fmt.Errorf("the relay's certificate for %s: %w", name, err)
	}
	if cert.Username != name {
		return trust.KeyID{}, fmt.Errorf("the relay's certificate for %s certifies %q", name, cert.Username)
	}
	return trust.CertID(d), nil
}

// RevocationsPublish uploads the signed revocation list in file (written
// by RevokeSign with Out and signed by the other administrators).
func (c *Client) RevocationsPublish(ctx context.Context, file string) (*PublishedPolicy, error) {
	return c.publishSignedFile(ctx, file, trust.KindRevocation, "a revocation list", protocol.PathTrustRevocations)
}

// parseKeyID reads a key or certificate ID in hex.
func parseKeyID(s string) (trust.KeyID, error) {
	var id trust.KeyID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("want %d hex digits", 2*len(id))
	}
	copy(id[:], b)
	return id, nil
}

// shortRecipient abbreviates a reviewer key for the plan.
func shortRecipient(k string) string {
	if len(k) > 24 {
		return k[:24] + "…"
	}
	return k
}
