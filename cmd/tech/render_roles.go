package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/sanitize"
)

// printRoles prints roles as a table or JSON.
func printRoles(w io.Writer, rs []api.Role, asJSON bool) error {
	return printList(w, rs, asJSON, "ROLE\tKIND\tALLOW\tDENY", func(r api.Role) string {
		kind := "custom"
		if r.Builtin {
			kind = "built-in"
		}
		return fmt.Sprintf("%s\t%s\t%s\t%s", r.Name, kind, strings.Join(r.Allow, ","), strings.Join(r.Deny, ","))
	})
}

// printRoleSaved says what a saved role grants.
func printRoleSaved(stderr io.Writer, r api.Role) {
	fmt.Fprintf(stderr, "Role %s saved; it grants: %s\n", sanitize.Display(r.Name, 64), sanitize.Display(strings.Join(r.Effective, ", "), 0))
}

// printOrgs prints organisations as a table or JSON.
func printOrgs(w io.Writer, orgs []api.Org, asJSON bool) error {
	return printList(w, orgs, asJSON, "ORG\tMEMBERS\tMIN LENGTH\tLOCKOUT\tIDLE\tMFA", func(o api.Org) string {
		return fmt.Sprintf("%s\t%d\t%d\t%d\t%s\t%v", sanitize.Display(o.Name, 63), o.Members, o.Policy.MinLength,
			o.Policy.LockoutThreshold, o.Policy.IdleTimeout, o.Policy.RequireMFA)
	})
}
