package tech

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/trust"
)

// minKeyIDPrefix is the fewest hex digits of a key ID that
// `tech trust remove-admin` accepts.
const minKeyIDPrefix = 8

// TrustRemoveAdminOptions are the flags of `tech trust remove-admin`.
type TrustRemoveAdminOptions struct {
	// KeyID names the administrator key to remove: its ID in hex as
	// `tech trust show` prints it, or an unambiguous prefix of at least
	// eight digits.
	KeyID string
	// Threshold is the new root's threshold; 0 keeps the current one.
	Threshold int
	// Out receives the change when more signatures are needed.
	Out string
	Passphrase
}

// TrustRemoveAdmin makes a root change removing an administrator key (and
// setting the threshold), signed by this administrator; it is published
// when that meets the current threshold, else written to Out. A change
// that would leave fewer keys than the threshold is refused.
func (c *Client) TrustRemoveAdmin(ctx context.Context, o TrustRemoveAdminOptions) (TrustOutcome, error) {
	var out TrustOutcome
	err := c.trustRemoveAdmin(ctx, o, &out)
	return out, err
}

// trustRemoveAdmin is TrustRemoveAdmin, filling out as it goes.
func (c *Client) trustRemoveAdmin(ctx context.Context, o TrustRemoveAdminOptions, out *TrustOutcome) error {
	cur, err := c.currentRoot(ctx)
	if err != nil {
		return err
	}
	i, err := findAdminKey(cur.Body.Admins, o.KeyID)
	if err != nil {
		return err
	}
	admins := slices.Delete(slices.Clone(cur.Body.Admins), i, i+1)
	if o.Threshold == 0 {
		o.Threshold = int(cur.Body.Threshold)
	}
	if len(admins) == 0 {
		return fmt.Errorf("key %s is the root's only administrator key: add another with `tech trust add-admin` first", cur.Body.Admins[i].ID())
	}
	if o.Threshold > len(admins) {
		return fmt.Errorf("removing key %s would leave %d administrator keys, fewer than the threshold of %d: pass --threshold %d or lower, or add a key first",
			cur.Body.Admins[i].ID(), len(admins), o.Threshold, len(admins))
	}
	return c.proposeRootChange(ctx, cur, admins, o.Threshold, o.Out, o.Passphrase, out)
}

// findAdminKey is the index in admins of the key whose ID is id or begins
// with it (at least minKeyIDPrefix hex digits, matching one key only).
func findAdminKey(admins []*trust.PublicKey, id string) (int, error) {
	id = strings.ToLower(strings.TrimSpace(id))
	if _, err := hex.DecodeString(id + strings.Repeat("0", len(id)%2)); err != nil || len(id) < minKeyIDPrefix {
		return 0, fmt.Errorf("key ID %q: want the hex key ID `tech trust show` prints (at least %d digits)", id, minKeyIDPrefix)
	}
	found := -1
	for i, k := range admins {
		if strings.HasPrefix(k.ID().String(), id) {
			if found >= 0 {
				return 0, fmt.Errorf("key ID %s matches more than one administrator key; give more digits", id)
			}
			found = i
		}
	}
	if found < 0 {
		return 0, fmt.Errorf("key ID %s is not an administrator key of the current root (see `tech trust show`)", id)
	}
	return found, nil
}

// proposeRootChange makes the root change from cur to admins and
// threshold, signs it with this administrator's key and publishes it when
// that meets cur's threshold; otherwise it writes it to outFile for the
// other administrators to sign.
func (c *Client) proposeRootChange(ctx context.Context, cur *trust.Root, admins []*trust.PublicKey, threshold int, outFile string, p Passphrase, out *TrustOutcome) error {
	if threshold < 1 || threshold > trust.MaxSigners {
		return fmt.Errorf("--threshold %d: want 1 to %d", threshold, trust.MaxSigners)
	}
	if int(cur.Body.Threshold) > 1 && outFile == "" {
		return fmt.Errorf("the current root needs %d signatures: pass --out FILE, have the other administrators run `tech trust sign FILE`, then `tech trust publish FILE`", cur.Body.Threshold)
	}
	body, err := trust.NewRootBody(cur.Body.Org, uint8(threshold), admins...)
	if err != nil {
		return err
	}
	doc, err := trust.NewDocument(&trust.RootChangeBody{Previous: cur.Fingerprint, New: body}, cur.Version+1, time.Now(), time.Time{})
	if err != nil {
		return err
	}
	out.Published, out.Wrote, err = signThenRelease(c, doc, int(cur.Body.Threshold), outFile, p, nil, func() (*PublishedRoot, error) {
		return c.publish(ctx, doc.Encode())
	})
	return err
}
