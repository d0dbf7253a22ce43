package relay

import (
	"testing"
	"time"

	"github.com/tether-support/tether/internal/trust"
)

// signedDoc is body as a document at version v, issued and expiring at
// the times given, signed by signers.
func signedDoc(t *testing.T, body trust.Body, v uint64, issued, expiry time.Time, signers ...*trust.PrivateKey) []byte {
	t.Helper()
	d, err := trust.NewDocument(body, v, issued, expiry)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sign(signers...); err != nil {
		t.Fatal(err)
	}
	return d.Encode()
}
