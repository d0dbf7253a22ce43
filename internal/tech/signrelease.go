package tech

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/trust"
)

// Signed policies, revocation lists, certificates and root changes end
// the same way: sign with this administrator's key, then publish the
// document or, when the root needs more signatures, write it to a file for
// the other administrators. This file holds those shared steps.

// checkValidity refuses a validity shorter than a minute.
func checkValidity(v time.Duration) error {
	if v < time.Minute {
		return fmt.Errorf("validity %v: want at least a minute", v)
	}
	return nil
}

// needOut refuses to sign what needs more signatures when there is no
// file to write it to.
func needOut(need int, out string) error {
	if need > 1 && out == "" {
		return fmt.Errorf("the trust root needs %d signatures: pass --out FILE, have the other administrators run `tech trust sign FILE`, then `tech trust publish FILE`", need)
	}
	return nil
}

// signThenRelease signs doc with c's administrator key (once allow, if
// set, accepts the key), then publishes it with publish when need is one,
// else writes it to out for the other need-1 signatures.
func signThenRelease[T any](c *Client, doc *trust.Document, need int, out string, p Passphrase,
	allow func(*trust.PrivateKey) error, publish func() (T, error)) (published T, wrote *WrittenDocument, err error) {
	key, _, err := c.adminKey(p, false)
	if err != nil {
		return published, nil, err
	}
	if allow != nil {
		if err := allow(key); err != nil {
			return published, nil, err
		}
	}
	if err := doc.Sign(key); err != nil {
		return published, nil, err
	}
	if need > 1 {
		wrote, err = writeDocument(out, doc, need)
		return published, wrote, err
	}
	published, err = publish()
	return published, nil, err
}

// publishSigned uploads a signed policy or revocation list to path.
func (c *Client) publishSigned(ctx context.Context, path string, doc []byte) (*PublishedPolicy, error) {
	var resp api.TrustPolicyPublished
	if err := c.call(ctx, http.MethodPut, path, nil, api.TrustPublish{Document: doc}, &resp); err != nil {
		return nil, err
	}
	return &PublishedPolicy{Version: resp.Version, Expiry: resp.Expiry, Signers: resp.Signers}, nil
}

// publishSignedFile uploads the signed document of kind in file (what
// names the kind in errors: "a policy") to path.
func (c *Client) publishSignedFile(ctx context.Context, file string, kind trust.Kind, what, path string) (*PublishedPolicy, error) {
	doc, err := readDocument(file)
	if err != nil {
		return nil, err
	}
	if doc.Kind != kind {
		return nil, fmt.Errorf("%s holds a %s, not %s", file, doc.Kind, what)
	}
	return c.publishSigned(ctx, path, doc.Encode())
}
