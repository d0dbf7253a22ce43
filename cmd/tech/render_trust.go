package main

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

// warnIfNoRoot says tech.NoRootWarning on stderr when c pinned no trust
// root.
func warnIfNoRoot(stderr io.Writer, c *tech.Client) {
	if pinned, err := c.RootPinned(); err == nil && !pinned {
		fmt.Fprintln(stderr, tech.NoRootWarning)
	}
}

// askPassphrase asks for the trust key's passphrase on the terminal,
// without echo, prompting on stderr.
func askPassphrase(stderr io.Writer) func(prompt string) ([]byte, error) {
	return func(prompt string) ([]byte, error) {
		fd := int(os.Stdin.Fd())
		if !term.IsTerminal(fd) {
			return nil, tech.ErrNoPassphrase
		}
		fmt.Fprint(stderr, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		return b, nil
	}
}

// printMadeKey tells of an administrator key made now (m may be nil).
func printMadeKey(stderr io.Writer, m *tech.MadeKey) {
	if m != nil {
		fmt.Fprintf(stderr, "Made your trust administrator key %s (kept in %s, encrypted; it never leaves this machine).\n", m.ID, m.File)
	}
}

// printTrustOutcome tells what a change of the trust root did: the new
// root's fingerprint on stdout when published.
func printTrustOutcome(stdout, stderr io.Writer, o tech.TrustOutcome) {
	printMadeKey(stderr, o.MadeKey)
	if p := o.Published; p != nil {
		printPublished(stdout, stderr, p)
	}
	printWrote(stderr, o.Wrote)
}

// printPublished prints a published root's fingerprint on stdout and what
// it needs on stderr.
func printPublished(stdout, stderr io.Writer, p *tech.PublishedRoot) {
	fmt.Fprintln(stdout, p.Fingerprint)
	fmt.Fprintf(stderr, "Published trust root version %d: %d of %d administrator keys must sign.\n", p.Version, p.Threshold, p.Admins)
}

// printTrustShown prints the relay's root: its fingerprint on stdout, its
// organisation and keys on stderr.
func printTrustShown(stdout, stderr io.Writer, s tech.TrustShown) {
	if s.FollowedFrom != "" {
		fmt.Fprintf(stderr, "Followed verified root changes from %s.\n", s.FollowedFrom)
	}
	root := s.Root
	fmt.Fprintln(stdout, root.Fingerprint)
	fmt.Fprintf(stderr, "Organisation %s: version %d, %d of %d administrator keys must sign\n",
		sanitize.Display(root.Body.Org, 64), root.Version, root.Body.Threshold, len(root.Body.Admins))
	for _, k := range root.Body.Admins {
		fmt.Fprintf(stderr, "  admin key %s\n", k.ID())
	}
	if !s.Pinned {
		fmt.Fprintln(stderr, tech.NoRootWarning)
	}
}

// printTrustSigned tells whose signature a document now carries.
func printTrustSigned(stderr io.Writer, s tech.TrustSigned) {
	fmt.Fprintf(stderr, "Signed %s version %d as %s (%d signatures).\n", s.Kind, s.Version, s.Signer, s.Signatures)
}
