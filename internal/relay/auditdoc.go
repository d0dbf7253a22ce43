package relay

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/tether-support/tether/internal/trust"
)

// Audit detail keys every entry about a signed document carries (root,
// root change, policy, technician certificate, revocation), whether it was
// accepted or refused, so the log says which document and whose keys.
const (
	// detailDocKind is the document's kind as FORMAT.md names it.
	detailDocKind = "doc_kind"
	// detailDocVersion is the document's version.
	detailDocVersion = "version"
	// detailDocExpiry is its expiry (RFC 3339 UTC), "" for none.
	detailDocExpiry = "expiry"
	// detailDocSigners are the signers' key IDs, comma-separated, sorted.
	detailDocSigners = "signers"
	// detailDocHash is SHA-256 of the document's bytes, hex.
	detailDocHash = "doc_sha256"
)

// documentDetails are the audit details of a signed document followed by
// extra (more key/value pairs). A document that does not decode still gets
// its hash, so a refused upload can be matched to the file it came from.
func documentDetails(doc []byte, extra ...string) []string {
	sum := sha256.Sum256(doc)
	kv := []string{detailDocHash, hex.EncodeToString(sum[:])}
	if d, err := trust.Decode(doc); err == nil {
		expiry := ""
		if !d.Expiry.IsZero() {
			expiry = d.Expiry.UTC().Format("2006-01-02T15:04:05Z")
		}
		kv = append(kv, detailDocKind, d.Kind.String(), detailDocVersion, strconv.FormatUint(d.Version, 10),
			detailDocExpiry, expiry, detailDocSigners, signerIDs(doc))
	}
	return append(kv, extra...)
}

// signerIDs are a document's signers' key IDs, comma-separated ("" when
// it does not decode).
func signerIDs(doc []byte) string {
	d, err := trust.Decode(doc)
	if err != nil {
		return ""
	}
	ids := make([]string, len(d.Signatures))
	for i, sg := range d.Signatures {
		ids[i] = sg.KeyID.String()
	}
	return strings.Join(ids, ",")
}
