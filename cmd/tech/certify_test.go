package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/tech"
	"github.com/tether-support/tether/internal/trust"
)

// TestPrintCertifyOutcome: an issued certificate prints its ID on stdout
// and what it certifies, escape sequences removed, on stderr; a partly
// signed one says where it went and what comes next.
func TestPrintCertifyOutcome(t *testing.T) {
	exp := time.Date(2026, 3, 8, 9, 30, 0, 0, time.UTC)
	cert := &trust.TechCertBody{Name: "Alice" + hostile, Username: "alice", Org: "Clinic" + hostile, Capabilities: []string{"files", "shell" + hostile}}
	for _, tc := range []struct {
		name           string
		out            tech.CertifyOutcome
		stdout, stderr string
	}{
		{"issued", tech.CertifyOutcome{Issued: &tech.CertIssued{Cert: cert, CertID: "ab12", Expiry: exp}},
			"ab12\n", "Certified Alice (alice) for Clinic: capabilities files, shell, valid until 2026-03-08T09:30:00Z.\n"},
		{"written", tech.CertifyOutcome{Wrote: &tech.WrittenDocument{File: "alice.cert", Need: 2}},
			"", "Wrote alice.cert with 1 of 2 signatures. Next: the other administrators run `tech trust sign alice.cert`, then `tech trust publish alice.cert`.\n"},
		{"nothing", tech.CertifyOutcome{}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o, e bytes.Buffer
			printCertifyOutcome(&o, &e, tc.out)
			if o.String() != tc.stdout || e.String() != tc.stderr {
				t.Errorf("stdout %q stderr %q, want %q and %q", o.String(), e.String(), tc.stdout, tc.stderr)
			}
		})
	}
}
