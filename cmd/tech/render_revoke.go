package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

// confirmRevoke shows what the plan adds on stderr and, unless yes, asks
// whether to sign it.
func confirmRevoke(stdin io.Reader, stderr io.Writer, yes bool) func(*tech.RevokePlan) bool {
	return func(p *tech.RevokePlan) bool {
		printRevokePlan(stderr, p)
		if yes {
			return true
		}
		return askYes(stdin, stderr, fmt.Sprintf("Sign and publish revocation list version %d?", p.Version))
	}
}

// printRevokePlan prints the list in force and what the next version adds.
func printRevokePlan(stderr io.Writer, p *tech.RevokePlan) {
	if p.Current == nil {
		fmt.Fprintln(stderr, "No revocation list is published yet.")
	} else {
		fmt.Fprintf(stderr, "Revocation list version %d revokes %d certificates, %d reviewer keys, %d administrator keys.\n",
			p.Version-1, len(p.Current.TechCerts), len(p.Current.ReviewerKeys), len(p.Current.AdminKeys))
	}
	fmt.Fprintf(stderr, "Version %d (%d signatures needed) adds:\n", p.Version, p.Need)
	for _, a := range p.Added {
		fmt.Fprintf(stderr, "+ %s\n", a)
	}
}

// printRevokeOutcome tells what RevokeSign did.
func printRevokeOutcome(stderr io.Writer, o tech.RevokeOutcome) {
	if p := o.Published; p != nil {
		signers := make([]string, len(p.Signers))
		for i, s := range p.Signers {
			signers[i] = sanitize.Display(s, 64)
		}
		fmt.Fprintf(stderr, "Published revocation list version %d, valid until %s (signed by %s).\n",
			p.Version, p.Expiry.UTC().Format(time.RFC3339), strings.Join(signers, ", "))
	}
	printWrote(stderr, o.Wrote)
}
