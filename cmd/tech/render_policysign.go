package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

// confirmPolicy shows the plan's changes on stderr and, unless yes, asks
// on stderr for a "y" line on stdin.
func confirmPolicy(stdin io.Reader, stderr io.Writer, yes bool) func(*tech.PolicyPlan) bool {
	return func(p *tech.PolicyPlan) bool {
		printPolicyDiff(stderr, p)
		if yes {
			return true
		}
		return askYes(stdin, stderr, fmt.Sprintf("Sign and publish policy version %d?", p.Version))
	}
}

// printPolicyDiff prints how the plan differs from the policy in force,
// one setting a line ("- setting: old", "+ setting: new").
func printPolicyDiff(stderr io.Writer, p *tech.PolicyPlan) {
	if p.Current == nil {
		fmt.Fprintf(stderr, "No signed policy yet; policy version %d:\n", p.Version)
	} else {
		fmt.Fprintf(stderr, "Changes from signed policy version %d to version %d:\n", p.Version-1, p.Version)
	}
	changes := tech.PolicyDiff(p.Current, p.Next)
	for _, c := range changes {
		if c.HasOld {
			fmt.Fprintf(stderr, "- %s: %s\n", sanitize.Display(c.Setting, 0), sanitize.Display(c.Old, 0))
		}
		if c.HasNew {
			fmt.Fprintf(stderr, "+ %s: %s\n", sanitize.Display(c.Setting, 0), sanitize.Display(c.New, 0))
		}
	}
	if len(changes) == 0 {
		fmt.Fprintln(stderr, "  (no change but the version and expiry)")
	}
}

// printPolicyOutcome tells what tech policy sign (or trust publish of a
// policy) did.
func printPolicyOutcome(stderr io.Writer, o tech.PolicyOutcome) {
	if p := o.Published; p != nil {
		fmt.Fprintf(stderr, "Published signed policy version %d, valid until %s (signed by %s).\n",
			p.Version, p.Expiry.Format(time.RFC3339), strings.Join(p.Signers, ", "))
	}
	printWrote(stderr, o.Wrote)
}

// printSignedPolicy prints a verified signed policy as JSON on stdout and
// a summary on stderr.
func printSignedPolicy(stdout, stderr io.Writer, v *tech.SignedPolicyView) error {
	fmt.Fprintf(stderr, "Signed policy version %d verifies against trust root %s; valid until %s.\n",
		v.Version, v.Root, v.Expiry.Format(time.RFC3339))
	return writeJSON(stdout, v)
}
