package tech

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/trust"
)

// NoRootWarning is said once per start, where it matters, by a tech with
// no pinned trust root.
const NoRootWarning = "tech: warning: no trust root is pinned: the relay is trusted for policy; " +
	"create one with `tech trust init` or pin your organisation's with `tech trust pin SHA256:<hex>`"

// rootPinPath holds the fingerprint of the root this tech pinned.
func (c *Client) rootPinPath() string { return filepath.Join(c.Home, "trust-root") }

// pinnedRoot is the pinned root's fingerprint, or "" when none is pinned.
func (c *Client) pinnedRoot() (string, error) {
	if c.Home == "" { // NewWithToken: pinned for this client's life
		return c.rootPin, nil
	}
	b, err := os.ReadFile(c.rootPinPath())
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the pinned trust root: %w", err)
	}
	fp, err := trust.ParseFingerprint(strings.TrimSpace(string(b)))
	if err != nil {
		return "", fmt.Errorf("%s: %w", c.rootPinPath(), err)
	}
	return fp.String(), nil
}

// pinRoot stores fp as the pinned root (0600).
func (c *Client) pinRoot(fp string) error {
	if c.Home == "" {
		c.rootPin = fp
		return nil
	}
	if err := os.MkdirAll(c.Home, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(c.rootPinPath(), []byte(fp+"\n"), 0o600); err != nil {
		return fmt.Errorf("pin the trust root: %w", err)
	}
	return nil
}

// RootPinned reports whether this client pinned a trust root; without one
// the caller should say NoRootWarning where it matters.
func (c *Client) RootPinned() (bool, error) {
	fp, err := c.pinnedRoot()
	return fp != "", err
}

// TrustOutcome is what a change of the trust root did: published it, or
// wrote it for more signatures; and whether this administrator's key was
// made on the way.
type TrustOutcome struct {
	// MadeKey is set when this administrator's key was made now (even if
	// a later step failed).
	MadeKey *MadeKey
	// Published is set when the relay took the root.
	Published *PublishedRoot
	// Wrote is set when the document went to a file for more signatures.
	Wrote *WrittenDocument
}

// PublishedRoot is the root the relay now serves, as it answered; its
// fingerprint is now pinned.
type PublishedRoot struct {
	Fingerprint trust.Fingerprint
	// Version, Threshold and Admins are the relay's answer, raw.
	Version   uint64
	Threshold int
	Admins    int
}

// WrittenDocument is a root or root change written to File with one of
// Need signatures.
type WrittenDocument struct {
	File string
	Need int
}

// TrustInitOptions are the flags of `tech trust init`.
type TrustInitOptions struct {
	// Threshold is how many administrators must sign; default 1.
	Threshold int
	// Admins are files holding other administrators' public keys.
	Admins []string
	// Out, when set, receives the root signed by this administrator only,
	// for the others to sign (`tech trust sign`) before `tech trust publish`.
	Out string
	Passphrase
}

// TrustInit makes the organisation's root: this administrator's key (made
// if missing) and the given others, with the threshold; it publishes the
// root when this signature meets the threshold, else writes it to Out.
func (c *Client) TrustInit(ctx context.Context, o TrustInitOptions) (TrustOutcome, error) {
	var out TrustOutcome
	err := c.trustInit(ctx, o, &out)
	return out, err
}

// trustInit is TrustInit, filling out as it goes.
func (c *Client) trustInit(ctx context.Context, o TrustInitOptions, out *TrustOutcome) error {
	if o.Threshold == 0 {
		o.Threshold = 1
	}
	if o.Threshold < 1 || o.Threshold > trust.MaxSigners {
		return fmt.Errorf("--threshold %d: want 1 to %d", o.Threshold, trust.MaxSigners)
	}
	if o.Threshold > 1+len(o.Admins) {
		return fmt.Errorf("--threshold %d needs at least %d administrator keys: make each other administrator's with `tech trust key` and pass it with --admin FILE",
			o.Threshold, o.Threshold)
	}
	if o.Threshold > 1 && o.Out == "" {
		return errors.New("a root with --threshold above 1 must be signed by other administrators first: pass --out FILE, have them run `tech trust sign FILE`, then `tech trust publish FILE`")
	}
	var who api.Whoami
	if err := c.call(ctx, http.MethodGet, protocol.PathWhoami, nil, nil, &who); err != nil {
		return err
	}
	if !slices.Contains(who.Permissions, "trust.manage") {
		return errors.New("permission denied: publishing the trust root needs trust.manage (a superadmin's)")
	}
	chain, err := c.fetchChain(ctx)
	if err != nil {
		return err
	}
	if len(chain) > 0 {
		return errors.New("this relay already has a trust root; see `tech trust show`, and change it with `tech trust add-admin`")
	}
	admins := []*trust.PublicKey{}
	for _, f := range o.Admins {
		k, err := readAdminKeyFile(f)
		if err != nil {
			return err
		}
		admins = append(admins, k)
	}
	key, made, err := c.adminKey(o.Passphrase, true)
	out.MadeKey = made
	if err != nil {
		return err
	}
	body, err := trust.NewRootBody(who.Org, uint8(o.Threshold), append(admins, key.Public())...)
	if err != nil {
		return err
	}
	doc, err := trust.NewDocument(body, 1, time.Now(), time.Time{})
	if err != nil {
		return err
	}
	if err := doc.Sign(key); err != nil {
		return err
	}
	if o.Threshold > 1 {
		out.Wrote, err = writeDocument(o.Out, doc, o.Threshold)
		return err
	}
	out.Published, err = c.publish(ctx, doc.Encode())
	return err
}

// TrustAddAdminOptions are the flags of `tech trust add-admin`.
type TrustAddAdminOptions struct {
	// Key is the file holding the new administrator's public key.
	Key string
	// Threshold is the new root's threshold; 0 keeps the current one.
	Threshold int
	// Out receives the change when more signatures are needed.
	Out string
	Passphrase
}

// TrustAddAdmin makes a root change adding an administrator key (and
// setting the threshold), signed by this administrator; it is published
// when that meets the current threshold, else written to Out.
func (c *Client) TrustAddAdmin(ctx context.Context, o TrustAddAdminOptions) (TrustOutcome, error) {
	var out TrustOutcome
	err := c.trustAddAdmin(ctx, o, &out)
	return out, err
}

// trustAddAdmin is TrustAddAdmin, filling out as it goes.
func (c *Client) trustAddAdmin(ctx context.Context, o TrustAddAdminOptions, out *TrustOutcome) error {
	cur, err := c.currentRoot(ctx)
	if err != nil {
		return err
	}
	newKey, err := readAdminKeyFile(o.Key)
	if err != nil {
		return err
	}
	if o.Threshold == 0 {
		o.Threshold = int(cur.Body.Threshold)
	}
	return c.proposeRootChange(ctx, cur, append(slices.Clone(cur.Body.Admins), newKey), o.Threshold, o.Out, o.Passphrase, out)
}

// TrustSigned is a document TrustSign signed.
type TrustSigned struct {
	Kind    trust.Kind
	Version uint64
	// Signer is this administrator's key; Signatures counts them all now.
	Signer     trust.KeyID
	Signatures int
}

// TrustSign adds this administrator's signature to the document in file.
func (c *Client) TrustSign(file string, p Passphrase) (TrustSigned, error) {
	doc, err := readDocument(file)
	if err != nil {
		return TrustSigned{}, err
	}
	key, _, err := c.adminKey(p, false)
	if err != nil {
		return TrustSigned{}, err
	}
	if err := doc.Sign(key); err != nil {
		return TrustSigned{}, err
	}
	if err := os.WriteFile(file, encodeDocumentText(doc), 0o600); err != nil {
		return TrustSigned{}, fmt.Errorf("write %s: %w", file, err)
	}
	return TrustSigned{Kind: doc.Kind, Version: doc.Version, Signer: key.Public().ID(), Signatures: len(doc.Signatures)}, nil
}

// TrustPublish uploads the signed root or root change in file.
func (c *Client) TrustPublish(ctx context.Context, file string) (*PublishedRoot, error) {
	doc, err := readDocument(file)
	if err != nil {
		return nil, err
	}
	return c.publish(ctx, doc.Encode())
}

// TrustShown is the relay's newest trust root, verified.
type TrustShown struct {
	// Root is the newest root; its Body.Org is the relay's, raw.
	Root *trust.Root
	// FollowedFrom is the root pinned before, when verified root changes
	// led from it to Root (now pinned instead); else "".
	FollowedFrom string
	// Pinned: this client had pinned a root (else NoRootWarning applies).
	Pinned bool
}

// TrustShow verifies the relay's root chain (from the pinned root, if
// any) and returns the newest root. A root reached through verified
// changes is pinned.
func (c *Client) TrustShow(ctx context.Context) (TrustShown, error) {
	chain, err := c.fetchChain(ctx)
	if err != nil {
		return TrustShown{}, err
	}
	pin, err := c.pinnedRoot()
	if err != nil {
		return TrustShown{}, err
	}
	if len(chain) == 0 {
		if pin != "" {
			return TrustShown{}, fmt.Errorf("the relay serves no trust root, but you pinned %s", pin)
		}
		return TrustShown{}, errors.New("this relay has no trust root yet; make one with `tech trust init`")
	}
	root, err := c.verifyChain(chain)
	if err != nil {
		return TrustShown{}, err
	}
	shown := TrustShown{Root: root, Pinned: pin != ""}
	if pin != "" && pin != root.Fingerprint.String() {
		if err := c.pinRoot(root.Fingerprint.String()); err != nil {
			return TrustShown{}, err
		}
		shown.FollowedFrom = pin
	}
	return shown, nil
}

// TrustPin pins fp when no root is pinned; it is verified against the
// relay's chain by the next `tech trust show`.
func (c *Client) TrustPin(fp string) error {
	f, err := trust.ParseFingerprint(fp)
	if err != nil {
		return err
	}
	pin, err := c.pinnedRoot()
	if err != nil {
		return err
	}
	switch pin {
	case f.String():
		return nil
	case "":
		return c.pinRoot(f.String())
	}
	return fmt.Errorf("you already pinned trust root %s; it changes only through root changes its administrators signed", pin)
}

// fetchChain gets the relay's root chain.
func (c *Client) fetchChain(ctx context.Context) ([][]byte, error) {
	ep, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	return transport.GetTrustChain(ctx, ep)
}

// verifyChain verifies chain from the pinned root, or from its first root
// when none is pinned; nil for an empty chain.
func (c *Client) verifyChain(chain [][]byte) (*trust.Root, error) {
	if len(chain) == 0 {
		return nil, nil
	}
	pin, err := c.pinnedRoot()
	if err != nil {
		return nil, err
	}
	if pin == "" {
		ch, err := trust.VerifyChain(chain, time.Now())
		if err != nil {
			return nil, fmt.Errorf("the relay's trust root: %w", err)
		}
		return ch.Newest(), nil
	}
	fp, _ := trust.ParseFingerprint(pin)
	root, err := trust.Follow(chain, fp, time.Now())
	if err != nil {
		return nil, fmt.Errorf("refusing the relay's trust root: %w", err)
	}
	return root, nil
}

// publish uploads doc and pins the newest root.
func (c *Client) publish(ctx context.Context, doc []byte) (*PublishedRoot, error) {
	var resp api.TrustPublished
	if err := c.call(ctx, http.MethodPut, protocol.PathTrustRoot, nil, api.TrustPublish{Document: doc}, &resp); err != nil {
		return nil, err
	}
	fp, err := trust.ParseFingerprint(resp.Fingerprint)
	if err != nil {
		return nil, fmt.Errorf("the relay answered: %w", err)
	}
	if err := c.pinRoot(fp.String()); err != nil {
		return nil, err
	}
	return &PublishedRoot{Fingerprint: fp, Version: resp.Version, Threshold: resp.Threshold, Admins: resp.Admins}, nil
}

// writeDocument writes a document that needs more signatures to file.
func writeDocument(file string, d *trust.Document, need int) (*WrittenDocument, error) {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", file, err)
	}
	_, werr := f.Write(encodeDocumentText(d))
	if err := errors.Join(werr, f.Close()); err != nil {
		return nil, fmt.Errorf("write %s: %w", file, err)
	}
	return &WrittenDocument{File: file, Need: need}, nil
}

// encodeDocumentText is a document as a base64 text file.
func encodeDocumentText(d *trust.Document) []byte {
	return []byte(base64.StdEncoding.EncodeToString(d.Encode()) + "\n")
}

// readDocument reads a document written by encodeDocumentText.
func readDocument(file string) (*trust.Document, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read signed document: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("%s is not a signed document file: %w", file, err)
	}
	d, err := trust.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return d, nil
}
