package main

import (
	"fmt"
	"io"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/sanitize"
)

// printEnrollToken prints a new enrollment token on stdout (for scripts)
// and how to use it on stderr.
func printEnrollToken(stdout, stderr io.Writer, resp api.EnrollTokenResponse, relay string) {
	fmt.Fprintln(stdout, sanitize.Display(resp.Token, 256))
	fmt.Fprintf(stderr, "One-time token for group %q, valid until %s.\nOn the device run: agent enroll --relay %s --token <token>\n",
		resp.Group, resp.ExpiresAt.Local().Format(time.RFC1123), relay)
}

// printDevices prints enrolled devices as a table or JSON.
func printDevices(w io.Writer, ds []api.Device, asJSON bool) error {
	return printList(w, ds, asJSON, "NAME\tGROUP\tSTATE\tLAST SEEN", func(d api.Device) string {
		st := "offline"
		switch {
		case !d.RevokedAt.IsZero():
			st = "revoked"
		case d.Online:
			st = "online"
		}
		seen := "-"
		if !d.LastSeen.IsZero() {
			seen = d.LastSeen.Local().Format(time.DateTime)
		}
		return fmt.Sprintf("%s\t%s\t%s\t%s", sanitize.Display(d.Name, 63), sanitize.Display(d.Group, 63), st, seen)
	})
}
