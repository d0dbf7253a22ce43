package relay

import (
	"encoding/json"
	"fmt"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/store"
)

// checkReceiptCert says what is wrong with the technician certificate a
// verified consent receipt names: one that no successful trust.cert.issue
// entry before it issued was never accepted by this relay. "" when the
// receipt names none or an issued one.
func checkReceiptCert(r *store.AuditRecord, issued map[string]bool) string {
	if r.Details["receipt_check"] != "verified" {
		return ""
	}
	var receipt protocol.ConsentReceipt
	if json.Unmarshal([]byte(r.Details["receipt"]), &receipt) != nil || receipt.CertID == "" {
		return ""
	}
	if !issued[receipt.CertID] {
		return fmt.Sprintf("the device's signed consent receipt says it verified technician certificate %s, which no trust.cert.issue entry issued", receipt.CertID)
	}
	return ""
}
