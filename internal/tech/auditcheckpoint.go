package tech

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/trust"
)

// DefaultAdminKeyFile is the administrator key file `tech audit checkpoint`
// uses without --key, in the config directory.
const DefaultAdminKeyFile = "admin.key"

// AuditCheckpointOptions says which administrator key countersigns.
type AuditCheckpointOptions struct {
	// KeyFile is the passphrase-encrypted hybrid key (internal/trust);
	// empty means DefaultAdminKeyFile in the config directory.
	KeyFile string
	// PassphraseFile holds the key's passphrase (one trailing newline is
	// ignored).
	PassphraseFile string
}

// AuditCheckpointed is what AuditCheckpoint did.
type AuditCheckpointed struct {
	// Report is the verification of the log, set once it passed (even if
	// countersigning or the upload then failed).
	Report *AuditReport
	// Seq is the entry whose signed head was countersigned.
	Seq uint64
	// AdminKey is the ID of the administrator key that countersigned.
	AdminKey trust.KeyID
}

// AuditCheckpoint verifies the relay's log like AuditVerify, then
// countersigns its signed head with an administrator's key and uploads the
// countersignature, which later verifications check the log against.
func (c *Client) AuditCheckpoint(ctx context.Context, opts AuditCheckpointOptions) (AuditCheckpointed, error) {
	var done AuditCheckpointed
	k, err := readAdminPrivateKey(c.Home, opts)
	if err != nil {
		return done, err
	}
	x, err := c.fetchAuditLog(ctx)
	if err != nil {
		return done, err
	}
	if done.Report, err = c.checkAuditLog(x, checkpointKeys{}, true); err != nil {
		return done, err
	}
	cs, err := audit.Countersign(x.Head, k)
	if err != nil {
		return done, err
	}
	req := api.AuditCheckpoint{Seq: cs.Seq, Hash: cs.Hash, Time: cs.Time, AdminKey: cs.AdminKey, Ed25519: cs.Ed25519, MLDSA: cs.MLDSA}
	var out api.AuditCheckpointStored
	if err := c.call(ctx, http.MethodPost, protocol.PathAuditCheckpoints, nil, req, &out); err != nil {
		return done, fmt.Errorf("upload the checkpoint: %w", err)
	}
	done.Seq, done.AdminKey = out.Seq, k.Public().ID()
	return done, nil
}

// readAdminPrivateKey opens the administrator's encrypted key file.
func readAdminPrivateKey(home string, opts AuditCheckpointOptions) (*trust.PrivateKey, error) {
	path := opts.KeyFile
	if path == "" {
		if home == "" {
			return nil, errNoHome
		}
		path = filepath.Join(home, DefaultAdminKeyFile)
	}
	if opts.PassphraseFile == "" {
		return nil, fmt.Errorf("the admin key %s needs its passphrase: give --passphrase-file FILE", path)
	}
	pass, err := os.ReadFile(opts.PassphraseFile)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	pass = bytes.TrimSuffix(bytes.TrimSuffix(pass, []byte("\n")), []byte("\r"))
	k, err := trust.ReadKeyFile(path, pass)
	if err != nil {
		return nil, fmt.Errorf("open admin key: %w", err)
	}
	return k, nil
}

// newLineReader buffers an export for readLine.
func newLineReader(r io.Reader) *bufio.Reader { return bufio.NewReaderSize(r, 64<<10) }

// auditTee checks the lines copyJSONL writes, one line per Write, while
// passing them on.
type auditTee struct {
	w   io.Writer
	x   audit.ExportReader
	err error
}

func (t *auditTee) Write(p []byte) (int, error) {
	if t.err == nil {
		t.err = t.x.Line(bytes.TrimSuffix(p, []byte("\n")))
	}
	return t.w.Write(p)
}

// copyAuditJSONL copies a JSONL export to w like copyJSONL and, when it
// verifies against the remembered head, remembers its signed head; when it
// does not, unverified says why.
func (c *Client) copyAuditJSONL(w io.Writer, r io.Reader) (unverified, err error) {
	tee := &auditTee{w: w}
	if err := copyJSONL(tee, r); err != nil {
		return nil, err
	}
	unverified = tee.err
	if unverified == nil {
		var x *audit.ExportLog
		if x, unverified = tee.x.Finish(); unverified == nil {
			_, unverified = c.checkAuditLog(x, checkpointKeys{}, true)
		}
	}
	return unverified, nil
}
