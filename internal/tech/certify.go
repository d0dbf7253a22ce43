package tech

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/trust"
)

// Bounds of a certificate's validity.
const (
	// DefaultCertValidity is how long a certificate lasts unless told.
	DefaultCertValidity = 7 * 24 * time.Hour
	// MaxCertValidity is the longest validity `tech users certify` signs.
	MaxCertValidity = 366 * 24 * time.Hour
)

// CertifyOptions are the arguments of `tech users certify`.
type CertifyOptions struct {
	// Name is the technician's username.
	Name string
	// Validity is how long the certificate lasts; zero is the default.
	Validity time.Duration
	// Out, when the root needs more than one signature, receives the
	// certificate signed by this administrator only, for the others to
	// sign (`tech trust sign`) before `tech trust publish`.
	Out string
	Passphrase
}

// CertifyOutcome is what `tech users certify` did: uploaded the
// certificate, or wrote it for more signatures; and whether this
// administrator's key was made on the way (never: certify needs one).
type CertifyOutcome struct {
	// Issued is set when the relay took the certificate.
	Issued *CertIssued
	// Wrote is set when the certificate went to a file for more signatures.
	Wrote *WrittenDocument
}

// CertIssued is a certificate the relay now serves to its technician.
type CertIssued struct {
	// Cert is what it certifies (untrusted strings: sanitize to show).
	Cert *trust.TechCertBody
	// CertID names it for revocation.
	CertID string
	// Expiry is when it stops being valid.
	Expiry time.Time
}

// Certify builds the technician's certificate from what the relay says of
// the account and the key they uploaded, signs it with this
// administrator's key and uploads it (or, for a root with a threshold
// above one, writes it to Out for the other administrators).
func (c *Client) Certify(ctx context.Context, o CertifyOptions) (CertifyOutcome, error) {
	var out CertifyOutcome
	if o.Validity == 0 {
		o.Validity = DefaultCertValidity
	}
	if o.Validity < time.Minute || o.Validity > MaxCertValidity {
		return out, fmt.Errorf("--validity %s: want 1m to %s", o.Validity, MaxCertValidity)
	}
	root, err := c.currentRoot(ctx)
	if err != nil {
		return out, err
	}
	if root.Body.Threshold > 1 && o.Out == "" {
		return out, fmt.Errorf("this root needs %d administrator signatures: pass --out FILE, have the others run `tech trust sign FILE`, then `tech trust publish FILE`", root.Body.Threshold)
	}
	if c.st != nil && o.Name == c.st.Username {
		// Certifying yourself: make sure the relay has your current key.
		if _, err := c.uploadTechKey(ctx); err != nil {
			return out, err
		}
	}
	var facts api.CertifyFacts
	if err := c.call(ctx, http.MethodGet, protocol.PathTrustCerts+"/"+url.PathEscape(o.Name), nil, nil, &facts); err != nil {
		return out, err
	}
	doc, err := certDocument(root, facts, time.Now(), o.Validity)
	if err != nil {
		return out, err
	}
	out.Issued, out.Wrote, err = signThenRelease(c, doc, int(root.Body.Threshold), o.Out, o.Passphrase, nil, func() (*CertIssued, error) {
		return c.publishCert(ctx, doc)
	})
	return out, err
}

// PublishCertFile uploads the technician certificate in file, signed by
// enough administrators (`tech trust sign`); ok is false, and nothing
// done, when file holds another kind of document.
func (c *Client) PublishCertFile(ctx context.Context, file string) (issued *CertIssued, ok bool, err error) {
	doc, err := readDocument(file)
	if err != nil || doc.Kind != trust.KindTechCert {
		return nil, false, nil // TrustPublish reports it
	}
	issued, err = c.publishCert(ctx, doc)
	return issued, true, err
}

// currentRoot is the relay's newest root, verified from the pinned one.
func (c *Client) currentRoot(ctx context.Context) (*trust.Root, error) {
	chain, err := c.fetchChain(ctx)
	if err != nil {
		return nil, err
	}
	root, err := c.verifyChain(chain)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, errors.New("this relay has no trust root yet; make one with `tech trust init`")
	}
	return root, nil
}

// certDocument is the unsigned certificate for facts under root, valid
// from now for validity. Its version is the issue time, so a renewed
// certificate is newer than the one it replaces.
func certDocument(root *trust.Root, facts api.CertifyFacts, now time.Time, validity time.Duration) (*trust.Document, error) {
	key, err := trust.ParsePublicKey(facts.Key)
	if err != nil {
		return nil, fmt.Errorf("%s's key from the relay: %w", facts.Username, err)
	}
	body := &trust.TechCertBody{Name: facts.DisplayName, Username: facts.Username, Org: root.Body.Org,
		Capabilities: sortedUnique(facts.Capabilities), DeviceGroups: sortedUnique(facts.DeviceGroups), Key: key}
	return trust.NewDocument(body, uint64(now.Unix()), now, now.Add(validity))
}

// sortedUnique is l sorted without repeats.
func sortedUnique(l []string) []string {
	out := slices.Clone(l)
	slices.Sort(out)
	return slices.Compact(out)
}

// publishCert uploads a signed certificate for the technician it names.
func (c *Client) publishCert(ctx context.Context, doc *trust.Document) (*CertIssued, error) {
	cert, err := trust.BodyOf[*trust.TechCertBody](doc)
	if err != nil {
		return nil, err
	}
	var resp api.TechCertStored
	path := protocol.PathTrustCerts + "/" + url.PathEscape(cert.Username)
	if err := c.call(ctx, http.MethodPut, path, nil, api.TrustPublish{Document: doc.Encode()}, &resp); err != nil {
		return nil, err
	}
	return &CertIssued{Cert: cert, CertID: resp.CertID, Expiry: resp.Expiry}, nil
}
