package tech

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/trust"
)

// DefaultPolicyValidity is how long a signed policy is valid by default.
const DefaultPolicyValidity = 90 * 24 * time.Hour

// ErrNotConfirmed is PolicySign's error when Confirm says no.
var ErrNotConfirmed = errors.New("not confirmed: nothing was signed")

// PolicySignOptions are the flags of `tech policy sign`.
type PolicySignOptions struct {
	// From, when set, is a JSON file (api.PolicyDraft) to sign instead of
	// the relay's current settings.
	From string
	// Out receives the document signed by this administrator when the
	// root needs more signatures (`tech trust sign`, `tech trust publish`).
	Out string
	// Valid is how long the signed policy is valid; 0 is the default.
	Valid time.Duration
	// Confirm is shown the plan before anything is signed and says
	// whether to go on; nil goes on (--yes).
	Confirm func(*PolicyPlan) bool
	Passphrase
}

// PolicyPlan is what PolicySign is about to sign.
type PolicyPlan struct {
	// Current is the signed policy in force, nil when none is published.
	Current *api.PolicyDraft
	// Next is the policy to sign, as Version.
	Next    api.PolicyDraft
	Version uint64
	// Need is how many administrators must sign (the root's threshold).
	Need int
}

// PolicyOutcome is what PolicySign did.
type PolicyOutcome struct {
	// MadeKey is never set: signing a policy needs an existing key.
	Published *PublishedPolicy
	// Wrote is set when the policy went to a file for more signatures.
	Wrote *WrittenDocument
}

// PublishedPolicy is the relay's answer to a published policy.
type PublishedPolicy struct {
	Version uint64
	Expiry  time.Time
	// Signers are the key IDs whose signatures verified.
	Signers []string
}

// PolicySign builds the policy (from the relay's settings or From), lets
// Confirm see how it differs from the signed policy in force, signs it
// with this administrator's key and publishes it (or writes it to Out when
// the root's threshold needs more signatures).
func (c *Client) PolicySign(ctx context.Context, o PolicySignOptions) (PolicyOutcome, error) {
	var out PolicyOutcome
	if o.Valid == 0 {
		o.Valid = DefaultPolicyValidity
	}
	if err := checkValidity(o.Valid); err != nil {
		return out, err
	}
	plan, body, err := c.planPolicy(ctx, o.From)
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
	doc, err := trust.NewDocument(body, plan.Version, t, t.Add(o.Valid))
	if err != nil {
		return out, err
	}
	out.Published, out.Wrote, err = signThenRelease(c, doc, plan.Need, o.Out, o.Passphrase, nil, func() (*PublishedPolicy, error) {
		return c.publishSigned(ctx, protocol.PathTrustPolicy, doc.Encode())
	})
	return out, err
}

// planPolicy reads the draft and the policy in force.
func (c *Client) planPolicy(ctx context.Context, from string) (*PolicyPlan, *trust.PolicyBody, error) {
	root, err := c.currentRoot(ctx)
	if err != nil {
		return nil, nil, err
	}
	draft, err := c.policyDraft(ctx, from)
	if err != nil {
		return nil, nil, err
	}
	body, err := PolicyBodyOf(draft)
	if err != nil {
		return nil, nil, err
	}
	plan := &PolicyPlan{Next: PolicyDraftOf(body), Version: 1, Need: int(root.Body.Threshold)}
	cur, curBody, err := c.currentPolicy(ctx)
	if err != nil {
		return nil, nil, err
	}
	if cur != nil {
		plan.Current, plan.Version = curBody, cur.Version+1
	}
	return plan, body, nil
}

// policyDraft reads the draft from file, or asks the relay for its own.
func (c *Client) policyDraft(ctx context.Context, file string) (api.PolicyDraft, error) {
	var d api.PolicyDraft
	if file == "" {
		err := c.call(ctx, http.MethodGet, protocol.PathTrustDraft, nil, nil, &d)
		return d, err
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return d, fmt.Errorf("read policy: %w", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return d, fmt.Errorf("%s is not a policy in JSON: %w", file, err)
	}
	return d, nil
}

// currentPolicy is the relay's signed policy as published and its body;
// nil when none is published. It is not verified here: it only numbers
// the next version and shows what changes.
func (c *Client) currentPolicy(ctx context.Context) (*trust.Document, *api.PolicyDraft, error) {
	raw, err := c.fetchPolicy(ctx)
	if err != nil || raw == nil {
		return nil, nil, err
	}
	d, err := trust.Decode(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("the relay's signed policy: %w", err)
	}
	b, err := trust.BodyOf[*trust.PolicyBody](d)
	if err != nil {
		return nil, nil, fmt.Errorf("the relay's signed policy: %w", err)
	}
	draft := PolicyDraftOf(b)
	return d, &draft, nil
}

// fetchPolicy gets the relay's signed policy, unverified; nil for none.
func (c *Client) fetchPolicy(ctx context.Context) ([]byte, error) {
	ep, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	return transport.GetTrustPolicy(ctx, ep)
}

// PolicyPublish uploads the signed policy in file (written by PolicySign
// with Out and signed by the other administrators).
func (c *Client) PolicyPublish(ctx context.Context, file string) (*PublishedPolicy, error) {
	return c.publishSignedFile(ctx, file, trust.KindPolicy, "a policy", protocol.PathTrustPolicy)
}

// DocumentKind is the kind of the signed document in file.
func DocumentKind(file string) (trust.Kind, error) {
	doc, err := readDocument(file)
	if err != nil {
		return 0, err
	}
	return doc.Kind, nil
}

// SignedPolicyView is the relay's signed policy, verified: what `tech
// policy show --verify` prints.
type SignedPolicyView struct {
	Version uint64          `json:"version"`
	Issued  time.Time       `json:"issued"`
	Expiry  time.Time       `json:"expiry"`
	Root    string          `json:"root"`
	Signers []string        `json:"signers"`
	Policy  api.PolicyDraft `json:"policy"`
}

// PolicyVerify fetches the relay's signed policy and verifies it from the
// pinned root less the administrator keys the relay's revocation list
// revokes, as a device does; it fails when no root is pinned, or the
// policy is missing or does not verify.
func (c *Client) PolicyVerify(ctx context.Context) (*SignedPolicyView, error) {
	pin, err := c.pinnedRoot()
	if err != nil {
		return nil, err
	}
	if pin == "" {
		return nil, errors.New("no trust root is pinned: nothing to verify the policy against; pin your organisation's with `tech trust pin SHA256:<hex>`")
	}
	root, err := c.currentRoot(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := c.fetchPolicy(ctx)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errors.New("the relay serves no signed policy; publish one with `tech policy sign`")
	}
	rv, err := c.currentRevocations(ctx, root)
	if err != nil {
		return nil, err
	}
	body, d, err := openPolicy(root, rv, raw, time.Now())
	if err != nil {
		return nil, err
	}
	v := &SignedPolicyView{Version: d.Version, Issued: d.Issued, Expiry: d.Expiry, Root: root.Fingerprint.String(),
		Signers: []string{}, Policy: PolicyDraftOf(body)}
	for _, s := range d.Signatures {
		v.Signers = append(v.Signers, s.KeyID.String())
	}
	return v, nil
}

// PolicyBodyOf converts a JSON policy to the signed body: lists sorted
// and without repeats, as the encoding requires.
func PolicyBodyOf(d api.PolicyDraft) (*trust.PolicyBody, error) {
	b := &trust.PolicyBody{Recipients: sortedSet(d.Recipients), RecordInput: d.RecordInput,
		UnattendedGroups: sortedSet(d.UnattendedGroups), IdleSeconds: d.IdleSeconds,
		AbsoluteSeconds: d.AbsoluteSeconds, DirectPath: d.DirectPath}
	if b.IdleSeconds == 0 || b.AbsoluteSeconds == 0 {
		return nil, errors.New("policy: idle_seconds and absolute_seconds must be positive")
	}
	for role, caps := range d.Ceilings {
		for _, c := range caps {
			if !protocol.KnownCapability(c) {
				return nil, fmt.Errorf("policy: role %s: unknown capability %q", role, c)
			}
		}
		b.Ceilings = append(b.Ceilings, trust.RoleCeiling{Role: role, Capabilities: sortedSet(caps)})
	}
	slices.SortFunc(b.Ceilings, func(x, y trust.RoleCeiling) int { return strings.Compare(x.Role, y.Role) })
	return b, nil
}

// PolicyDraftOf is the JSON form of a signed body.
func PolicyDraftOf(b *trust.PolicyBody) api.PolicyDraft {
	d := api.PolicyDraft{Recipients: sortedSet(b.Recipients), RecordInput: b.RecordInput, Ceilings: map[string][]string{},
		UnattendedGroups: sortedSet(b.UnattendedGroups), IdleSeconds: b.IdleSeconds, AbsoluteSeconds: b.AbsoluteSeconds,
		DirectPath: b.DirectPath}
	for _, c := range b.Ceilings {
		d.Ceilings[c.Role] = sortedSet(c.Capabilities)
	}
	return d
}

// sortedSet is s sorted without repeats, never nil.
func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}
