package main

import (
	"fmt"
	"io"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
	"github.com/tether-support/tether/internal/totp"
)

// printLogin tells how a sign-in went: a relay key trusted on first use
// (even if storing the sign-in then failed, err), and on success who is
// signed in where. home is where the pin is stored.
func printLogin(stderr io.Writer, res tech.LoginResult, err error, home string) {
	if res.FirstUsePin != "" {
		fmt.Fprintf(stderr, "tech: warning: trusting the relay's key on first use: %s\ntech: hint: compare it with the fingerprint `relay init` printed; it is now pinned in %s\n", res.FirstUsePin, home)
	}
	if err != nil {
		return
	}
	fmt.Fprintf(stderr, "Signed in to %s as %s.\n", res.Relay, sanitize.Display(res.Username, 64))
	if res.MustChangePassword {
		fmt.Fprintf(stderr, "Your password must be changed now: run `tech passwd`.\n")
	}
}

// printMFAEnroll shows the QR code of a new two-factor secret on stderr
// and the secret on stdout.
func printMFAEnroll(stdout, stderr io.Writer, resp api.MFAEnrollResponse) error {
	qr, err := totp.QR(resp.URL)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "Scan this with your authenticator app, or type the secret printed below:\n\n%s\n", qr)
	fmt.Fprintln(stdout, sanitize.Display(resp.Secret, 128))
	fmt.Fprintln(stderr, "Then run `tech mfa confirm CODE` with the code the app shows.")
	return nil
}

// printRecoveryCodes prints the recovery codes on stdout, once, and what
// they are for on stderr.
func printRecoveryCodes(stdout, stderr io.Writer, resp api.MFAConfirmResponse) {
	for _, rc := range resp.RecoveryCodes {
		fmt.Fprintln(stdout, sanitize.Display(rc, 64))
	}
	fmt.Fprintln(stderr, "Two-factor sign-in is on: pass --totp CODE to `tech login`.\n"+
		"The recovery codes above are shown only now; each works once in place of a code. Keep them offline.")
}
