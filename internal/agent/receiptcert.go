package agent

import "github.com/tether-support/tether/internal/trust"

// certID is the ID of the verified certificate document raw, which the
// session's consent receipts carry; "" without one.
func certID(raw []byte) string {
	if raw == nil {
		return ""
	}
	d, err := trust.Decode(raw)
	if err != nil {
		return ""
	}
	return trust.CertID(d).String()
}
