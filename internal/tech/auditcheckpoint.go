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

	"tether/internal/api"
	"tether/internal/audit"
	"tether/internal/protocol"
	"tether/internal/trust"
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

// AuditCheckpoint verifies the relay's log like AuditVerify, then
// countersigns its signed head with an administrator's key and uploads the
// countersignature, which later verifications check the log against.
func (c *Client) AuditCheckpoint(ctx context.Context, opts AuditCheckpointOptions) error {
	k, err := readAdminPrivateKey(c.Home, opts)
	if err != nil {
		return err
	}
	x, err := c.fetchAuditLog(ctx)
	if err != nil {
		return err
	}
	rep, err := c.checkAuditLog(x, nil, true)
	if err != nil {
		return err
	}
	c.printAuditReport(rep)
	cs, err := audit.Countersign(x.Head, k)
	if err != nil {
		return err
	}
	req := api.AuditCheckpoint{Seq: cs.Seq, Hash: cs.Hash, Time: cs.Time, AdminKey: cs.AdminKey, Ed25519: cs.Ed25519, MLDSA: cs.MLDSA}
	var out api.AuditCheckpointStored
	if err := c.call(ctx, http.MethodPost, protocol.PathAuditCheckpoints, nil, req, &out); err != nil {
		return fmt.Errorf("upload the checkpoint: %w", err)
	}
	fmt.Fprintf(c.Stderr, "countersigned the audit head at entry %d with admin key %s\n", out.Seq, k.Public().ID())
	return nil
}

// readAdminPrivateKey opens the administrator's encrypted key file.
func readAdminPrivateKey(home string, opts AuditCheckpointOptions) (*trust.PrivateKey, error) {
	path := opts.KeyFile
	if path == "" {
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

// copyAuditJSONL copies a JSONL export to stdout like copyJSONL and,
// when it verifies against the remembered head, remembers its signed
// head; when it does not, it warns on stderr.
func (c *Client) copyAuditJSONL(r io.Reader) error {
	tee := &auditTee{w: c.Stdout}
	if err := copyJSONL(tee, r); err != nil {
		return err
	}
	err := tee.err
	if err == nil {
		var x *audit.ExportLog
		if x, err = tee.x.Finish(); err == nil {
			_, err = c.checkAuditLog(x, nil, true)
		}
	}
	if err != nil {
		fmt.Fprintf(c.Stderr, "tech: warning: the export does not verify: %v (see `tech audit verify`)\n", err)
	}
	return nil
}
