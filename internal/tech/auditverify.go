package tech

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
	"github.com/tether-support/tether/internal/trust"
)

// AuditVerifyOptions says what `tech audit verify` checks.
type AuditVerifyOptions struct {
	// File is an exported JSONL file; empty means the relay's log.
	File string
	// AdminKeys are files holding administrators' public keys: every
	// checkpoint countersigned by one of them must be in the log, and at
	// least one must be served. With a trust root pinned, checkpoints
	// countersigned by the root's administrators are checked too.
	AdminKeys []string
}

// AuditReport is what a successful check of an audit log found.
type AuditReport struct {
	// Entries is how many entries were verified.
	Entries int
	// Remembered is the head this client had seen and the log extends,
	// nil if none.
	Remembered *audit.SignedHead
	// Uncovered names points (remembered heads, checkpoints) older than
	// the log's first entry, which could not be checked.
	Uncovered []string
	// Checkpoints is how many administrator checkpoints were verified.
	Checkpoints int
	// Root is the pinned trust root (as followed to its newest version)
	// whose administrators' checkpoints were checked; nil when no root
	// is pinned.
	Root *trust.Root
}

// AuditVerify checks the relay's audit log (or an exported file): its
// chain is internally consistent, its signed head verifies, and it is an
// extension of the head this client remembers and of every checkpoint
// countersigned by one of opts.AdminKeys. On success it remembers the
// newest head and returns what it found.
func (c *Client) AuditVerify(ctx context.Context, opts AuditVerifyOptions) (*AuditReport, error) {
	admins, err := readAdminKeys(opts.AdminKeys)
	if err != nil {
		return nil, err
	}
	var x *audit.ExportLog
	if opts.File != "" {
		x, err = readExportFile(opts.File)
	} else {
		x, err = c.fetchAuditLog(ctx)
	}
	if err != nil {
		return nil, err
	}
	root, err := c.pinnedRootNow(ctx)
	if err != nil {
		return nil, err
	}
	return c.checkAuditLog(x, checkpointKeys{required: admins, root: root}, opts.File == "")
}

// readExportFile reads and checks an exported JSONL file.
func readExportFile(path string) (*audit.ExportLog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open audit export: %w", err)
	}
	defer f.Close()
	return audit.ReadExport(f)
}

// fetchAuditLog downloads the relay's whole log as JSONL and checks it.
func (c *Client) fetchAuditLog(ctx context.Context) (*audit.ExportLog, error) {
	body, err := c.openAuditExport(ctx, "")
	if err != nil {
		return nil, err
	}
	defer body.Close()
	var x audit.ExportReader
	br := newLineReader(body)
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			if verr := x.Line(bytes.TrimSuffix(line, []byte("\n"))); verr != nil {
				return nil, verr
			}
		}
		if err == io.EOF {
			return x.Finish()
		}
		if err != nil {
			return nil, fmt.Errorf("audit export: %w", err)
		}
	}
}

// openAuditExport asks the relay for its log as JSONL: all of it, or the
// entries at or after since (RFC 3339) when since is set.
func (c *Client) openAuditExport(ctx context.Context, since string) (io.ReadCloser, error) {
	ep, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	q := url.Values{"format": {audit.FormatJSONL}}
	if since != "" {
		q.Set("since", since)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ep.URL+protocol.PathAuditExport+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+ep.Token)
	resp, err := ep.HTTPClient().Do(req)
	if err != nil {
		return nil, transport.DialError(ep.URL, nil, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, transport.ResponseError(resp)
	}
	return resp.Body, nil
}

// checkAuditLog checks x against the head remembered for the configured
// relay and the checkpoints countersigned by admins, then remembers x's
// head if remember is set (or the file was signed by the remembered key).
func (c *Client) checkAuditLog(x *audit.ExportLog, keys checkpointKeys, fromRelay bool) (*AuditReport, error) {
	if x.Head == nil {
		return nil, errors.New("the audit log carries no signed head (exported by an older relay, or not JSON Lines), so it cannot be checked against remembered heads")
	}
	rep := &AuditReport{Entries: x.Entries(), Root: keys.root}
	heads, err := c.loadAuditHeads()
	if err != nil {
		return nil, err
	}
	key := c.relayKey()
	rem := heads[key]
	if key == "" {
		rem = nil
	}
	if rem != nil {
		if !bytes.Equal(rem.HeadKey, x.HeadKey) {
			return nil, fmt.Errorf("the audit log is signed by head key %s, but this client saw the relay sign with %s: the log may have been re-signed",
				keyHex(x.HeadKey), keyHex(rem.HeadKey))
		}
		if err := extends(x, rem.Head, "the head this client saw", rep); err != nil {
			return nil, err
		}
		rep.Remembered = rem.Head
	}
	if err := checkCheckpoints(x, keys, rep); err != nil {
		return nil, err
	}
	if key != "" && (fromRelay || rem != nil) && (rem == nil || x.Head.Seq >= rem.Head.Seq) {
		heads[key] = &rememberedHead{HeadKey: x.HeadKey, Head: x.Head}
		if err := c.saveAuditHeads(heads); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

// extends checks that x extends p, noting on rep when x cannot tell.
func extends(x *audit.ExportLog, p *audit.SignedHead, what string, rep *AuditReport) error {
	err := x.Extends(p)
	if errors.Is(err, audit.ErrNotCovered) {
		rep.Uncovered = append(rep.Uncovered, fmt.Sprintf(
			"%s at entry %d is older than the log's first entry %d (pruned, or exported with --since): not checked", what, p.Seq, x.First))
		return nil
	}
	if err != nil {
		return fmt.Errorf("the audit log is not an extension of %s at entry %d: %w", what, p.Seq, err)
	}
	return nil
}

// readAdminKeys reads administrators' public key files.
func readAdminKeys(paths []string) ([]*trust.PublicKey, error) {
	var keys []*trust.PublicKey
	for _, p := range paths {
		k, err := readAdminKey(p)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// readAdminKey reads one public key file: the key's encoding
// (internal/trust) in hex or standard base64, or as raw bytes.
func readAdminKey(path string) (*trust.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read admin key: %w", err)
	}
	text := strings.TrimSpace(string(b))
	raw := b
	if d, err := hex.DecodeString(text); err == nil {
		raw = d
	} else if d, err := base64.StdEncoding.DecodeString(text); err == nil {
		raw = d
	}
	k, err := trust.ParsePublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("admin key %s: %w", path, err)
	}
	return k, nil
}

// keyHex shortens a head key for a message.
func keyHex(k []byte) string { return hex.EncodeToString(k) }
