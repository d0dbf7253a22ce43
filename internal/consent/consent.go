// Package consent decides whether the end user lets a technician in: it
// renders the question shown on the end user's terminal, reads the typed
// answer, and runs an external consent command for agents configured to ask
// some other way (a desktop dialog, a ticketing system, a policy script).
//
// Every field of a Request that the technician or the relay controls is
// untrusted; Render and the command environment pass it through
// sanitize.Display so it cannot drive the terminal or hide its meaning.
package consent

import (
	"fmt"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/sanitize"
)

// Display limits for untrusted fields, in runes.
const (
	maxField  = 80
	maxReason = 200
	maxCap    = 40
)

// WhyRefused is Decision.Why when the end user answers anything but yes.
const WhyRefused = "refused by the end user"

// Request is what a technician asks the end user to allow. The zero value
// asks for nothing.
type Request struct {
	SessionID    string
	TechName     string   // display name (untrusted text)
	TechUser     string   // username (untrusted text)
	Org          string   // organisation name (untrusted text)
	Capabilities []string // e.g. "shell", "files", "clipboard" (untrusted text)
	Recorded     bool     // the session will be recorded
	SecurityCode string   // e.g. "1234-5678", derived from the session keys
	Reason       string   // optional reason or ticket given by the technician (untrusted)
	ShellGranted bool     // the shell is already granted in this session
	// Verified is the organisation whose trust root certified the
	// technician's identity (name, username, Org), checked by the agent;
	// empty when the identity is only what the relay says.
	Verified string
}

// Decision is the answer to a Request. The zero value refuses everything.
type Decision struct {
	Granted      bool
	Capabilities []string // granted subset of the request (empty when refused)
	Why          string   // human reason when refused, e.g. "no answer within 60s"
}

// refuse returns a refusing Decision that says why.
func refuse(why string) Decision { return Decision{Why: why} }

// meanings explains each known capability in plain language.
var meanings = map[string]string{
	"shell":             "run commands on this computer",
	"files":             "copy files to and from this computer",
	"files:to-device":   "copy files from the technician onto this computer",
	"files:from-device": "copy files from this computer to the technician",
	"clipboard":         "read and set your clipboard",
	"screen-view":       "see your screen",
	"screen-control":    "control your mouse and keyboard",
}

// meaning returns the plain-language meaning of capability c.
func meaning(c string) string {
	if m, ok := meanings[c]; ok {
		return m
	}
	return "unknown capability; refuse unless you know what it means"
}

// Render returns the prompt shown on the end user's terminal for req, with
// timeout as the time after which the request is refused automatically.
// Untrusted fields are passed through sanitize.Display.
func Render(req Request, timeout time.Duration) string {
	var b strings.Builder
	b.WriteString("Remote support request\n\n")
	fmt.Fprintf(&b, "  Technician:   %s\n", techLine(req))
	fmt.Fprintf(&b, "  Organisation: %s\n", orNone(sanitize.Display(req.Org, maxField)))
	if req.Verified != "" {
		fmt.Fprintf(&b, "  Identity:     verified by %s\n", sanitize.Display(req.Verified, maxField))
	}
	if req.Reason != "" {
		fmt.Fprintf(&b, "  Reason:       %s\n", sanitize.Display(req.Reason, maxReason))
	}
	b.WriteString("\nThe technician asks to:\n")
	if len(req.Capabilities) == 0 {
		b.WriteString("  (nothing)\n")
	}
	for _, c := range req.Capabilities {
		fmt.Fprintf(&b, "  - %s: %s\n", sanitize.Display(c, maxCap), meaning(c))
	}
	if filesToWithoutShell(req) {
		b.WriteString("\nWithout shell, files copied onto this computer may not go into hidden files or\n" +
			"folders (like .bashrc or .ssh) or places that start programs on their own; such\n" +
			"copies are refused.\n")
	}
	if req.Recorded {
		b.WriteString("\nThis session will be recorded.\n")
	} else {
		b.WriteString("\nThis session will not be recorded.\n")
	}
	fmt.Fprintf(&b, "\nSecurity code: %s\n", sanitize.Display(req.SecurityCode, maxField))
	b.WriteString("Ask the technician to read this code to you; it must match.\n\n")
	fmt.Fprintf(&b, "Allow? Type y or yes to allow all, or the names of those you allow (e.g. shell); anything else refuses (refused automatically in %s): ",
		formatTimeout(timeout))
	return b.String()
}

// filesToWithoutShell reports whether req asks to copy files onto the
// device without the shell being asked or already granted.
func filesToWithoutShell(req Request) bool {
	return (contains(req.Capabilities, "files") || contains(req.Capabilities, "files:to-device")) &&
		!contains(req.Capabilities, "shell") && !req.ShellGranted
}

// techLine returns "Display Name (username)", sanitized, leaving out what
// is missing.
func techLine(req Request) string {
	name := sanitize.Display(req.TechName, maxField)
	user := sanitize.Display(req.TechUser, maxField)
	switch {
	case name == "":
		return orNone(user)
	case user == "":
		return name
	}
	return name + " (" + user + ")"
}

// orNone returns s, or a placeholder when s is empty.
func orNone(s string) string {
	if s == "" {
		return "(not given)"
	}
	return s
}

// formatTimeout renders d as whole seconds ("60s"), or as d.String() below
// one second.
func formatTimeout(d time.Duration) string {
	if d < time.Second {
		return d.String()
	}
	return fmt.Sprintf("%ds", int64(d.Round(time.Second)/time.Second))
}

// ParseAnswer interprets a line typed by the end user: "y" or "yes", in any
// case and with surrounding space ignored, grants every requested
// capability; anything else, including an empty line, refuses.
func ParseAnswer(line string, req Request) Decision {
	a := strings.TrimSpace(line)
	if strings.EqualFold(a, "y") || strings.EqualFold(a, "yes") {
		return Decision{Granted: true, Capabilities: append([]string(nil), req.Capabilities...)}
	}
	// A list of capabilities grants only those (each must have been asked).
	var some []string
	for _, w := range strings.FieldsFunc(a, func(r rune) bool { return r == ',' || r == ' ' }) {
		if !contains(req.Capabilities, w) {
			return refuse(WhyRefused)
		}
		if !contains(some, w) {
			some = append(some, w)
		}
	}
	if len(some) == 0 {
		return refuse(WhyRefused)
	}
	return Decision{Granted: true, Capabilities: some}
}
