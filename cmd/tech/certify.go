package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

func newUsersCertifyCmd(g *globals) *cobra.Command {
	var o tech.CertifyOptions
	cmd := &cobra.Command{
		Use:   "certify NAME [--passphrase-file FILE] [--validity DUR] [--out FILE]",
		Short: "Certify a technician's key with your trust administrator key",
		Long: `certify fetches NAME's public key (their tech uploads it at sign-in) and
account facts from the relay: display name, username, the session capabilities
their roles allow and their device groups. It signs a certificate of these for
the root's organisation with your administrator key (admin.key) and uploads it;
the technician's tech presents it in every session, and agents that pinned the
root refuse technicians without a valid one. The certificate lasts --validity
(default 7 days; renew by certifying again). With a root needing more than one
signature, it is written to --out for the other administrators to sign
('tech trust sign FILE'); then 'tech trust publish FILE' uploads it.
Prints the certificate's ID on stdout.`,
		Example: `  tech users certify alice
  tech users certify alice --validity 72h --passphrase-file ~/.admin-pass
  tech users certify alice --out alice.cert   # a 2-of-N root`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client(cmd)
			if err != nil {
				return err
			}
			o.Name = args[0]
			o.Ask = askPassphrase(cmd.ErrOrStderr())
			out, err := c.Certify(cmd.Context(), o)
			printCertifyOutcome(cmd.OutOrStdout(), cmd.ErrOrStderr(), out)
			return err
		},
	}
	passphraseFlag(cmd, &o.Passphrase)
	cmd.Flags().DurationVar(&o.Validity, "validity", tech.DefaultCertValidity, "how long the certificate lasts (at most a year)")
	cmd.Flags().StringVar(&o.Out, "out", "", "write the partly signed certificate to FILE (a root needing more than one signature)")
	return cmd
}

// printCertifyOutcome prints an issued certificate's ID on stdout and what
// it certifies on stderr, or where a partly signed one was written.
func printCertifyOutcome(stdout, stderr io.Writer, o tech.CertifyOutcome) {
	if i := o.Issued; i != nil {
		printCertIssued(stdout, stderr, i)
	}
	printWrote(stderr, o.Wrote)
}

// printCertIssued prints a certificate the relay took.
func printCertIssued(stdout, stderr io.Writer, i *tech.CertIssued) {
	caps := make([]string, len(i.Cert.Capabilities))
	for n, c := range i.Cert.Capabilities {
		caps[n] = sanitize.Display(c, 32)
	}
	fmt.Fprintln(stdout, i.CertID)
	fmt.Fprintf(stderr, "Certified %s (%s) for %s: capabilities %s, valid until %s.\n",
		sanitize.Display(i.Cert.Name, 64), sanitize.Display(i.Cert.Username, 64), sanitize.Display(i.Cert.Org, 64),
		strings.Join(caps, ", "), i.Expiry.Format(time.RFC3339))
}
