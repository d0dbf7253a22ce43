package consent

import (
	"time"

	"github.com/tether-support/tether/internal/sanitize"
)

// Prompt is the content of a consent prompt, every field already passed
// through sanitize.Display, for prompts drawn elsewhere than the terminal
// (the desktop consent window). It says what Render says, line for line,
// without the terminal's typing instructions.
type Prompt struct {
	// Head is the technician, organisation, verified identity and reason,
	// one "Label: value" line each.
	Head []string
	// Caps are the requested capabilities in order.
	Caps []PromptCap
	// Notes are the paragraphs after the capabilities: the warning about
	// files without shell, and whether the session is recorded.
	Notes []string
	// SecurityCode is the code the technician must read out.
	SecurityCode string
}

// PromptCap is one requested capability and its plain-language meaning.
type PromptCap struct {
	Name    string // the capability's name as requested (sanitized)
	Raw     string // the capability's name exactly as requested, for the Decision
	Meaning string
}

// PromptFor returns the content of the prompt for req.
func PromptFor(req Request) Prompt {
	p := Prompt{
		Head: []string{
			"Technician:   " + techLine(req),
			"Organisation: " + orNone(sanitize.Display(req.Org, maxField)),
		},
		SecurityCode: sanitize.Display(req.SecurityCode, maxField),
	}
	if req.Verified != "" {
		p.Head = append(p.Head, "Identity:     verified by "+sanitize.Display(req.Verified, maxField))
	}
	if req.Reason != "" {
		p.Head = append(p.Head, "Reason:       "+sanitize.Display(req.Reason, maxReason))
	}
	for _, c := range req.Capabilities {
		p.Caps = append(p.Caps, PromptCap{Name: sanitize.Display(c, maxCap), Raw: c, Meaning: meaning(c)})
	}
	if filesToWithoutShell(req) {
		p.Notes = append(p.Notes, "Without shell, files copied onto this computer may not go into hidden files or "+
			"folders (like .bashrc or .ssh) or places that start programs on their own; such copies are refused.")
	}
	if req.Recorded {
		p.Notes = append(p.Notes, "This session will be recorded.")
	} else {
		p.Notes = append(p.Notes, "This session will not be recorded.")
	}
	return p
}

// Grant returns the Decision for an end user who allowed the capabilities
// in chosen (each must have been requested; others are ignored). Choosing
// none refuses.
func Grant(req Request, chosen []string) Decision {
	var caps []string
	for _, c := range req.Capabilities {
		if contains(chosen, c) && !contains(caps, c) {
			caps = append(caps, c)
		}
	}
	if len(caps) == 0 {
		return refuse(WhyRefused)
	}
	return Decision{Granted: true, Capabilities: caps}
}

// Refuse returns a refusing Decision that says why.
func Refuse(why string) Decision { return refuse(why) }

// FormatTimeout renders d as the prompts do: whole seconds ("60s"), or
// d.String() below one second.
func FormatTimeout(d time.Duration) string { return formatTimeout(d) }
