package relay

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/store"
	"github.com/tether-support/tether/internal/trust"
)

// VerifyStoredRevocations checks the revocation list stored in dir (the
// relay keeps only the newest) the way VerifySessionPolicies checks
// policies: it must be signed, without revoked administrator keys, by the
// threshold of a root of the stored chain at the time its successful
// trust.revocation.publish entry recorded it. It returns what is wrong,
// "" when the list verifies or none is stored. Run it after VerifyAudit.
func VerifyStoredRevocations(dir string) (string, error) {
	db, err := openStore(dir)
	if err != nil {
		return "", err
	}
	defer db.Close()
	docs := newTrustDocs(dir, db)
	stored, err := readTrustRevocations(docs)
	if err != nil || stored.Document == nil {
		return "", err
	}
	chain, err := readStoredChain(docs)
	if err != nil {
		return "", err
	}
	published, err := revocationPublished(db, stored.Document)
	if err != nil {
		return "", err
	}
	return checkRevocations(chain, stored.Document, published), nil
}

// revocationPublished is when the last successful trust.revocation.publish
// entry of db's audit log recorded doc, zero when none did.
func revocationPublished(db store.Store, doc []byte) (time.Time, error) {
	sum := sha256.Sum256(doc)
	hash := hex.EncodeToString(sum[:])
	var at time.Time
	err := db.AuditRecords(0, func(r *store.AuditRecord) error {
		if r.Action == "trust.revocation.publish" && r.Outcome == "success" && r.Details[detailDocHash] == hash {
			at = r.Time
		}
		return nil
	})
	return at, err
}

// checkRevocations says what is wrong with the stored revocation list doc
// published at the given time (zero: never), "" when a root of chain
// verifies it then.
func checkRevocations(chain [][]byte, doc []byte, published time.Time) string {
	sum := sha256.Sum256(doc)
	name := "the stored revocation list (SHA-256 " + hex.EncodeToString(sum[:]) + ")"
	if published.IsZero() {
		return name + " was never accepted: no trust.revocation.publish entry records it"
	}
	if len(chain) == 0 {
		return name + " is stored, but no trust root chain is"
	}
	ch, err := trust.VerifyChain(chain, published)
	if err != nil {
		return fmt.Sprintf("the stored trust root chain does not verify: %v", err)
	}
	var last error
	for _, root := range ch.Roots {
		_, _, err := trust.VerifyRevocation(root, doc, published)
		if err == nil {
			return ""
		}
		last = err
	}
	return fmt.Sprintf("%s is not validly signed by any root of the stored chain: %v", name, last)
}
