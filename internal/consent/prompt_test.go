package consent

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPromptForMatchesRender checks that every line of the desktop prompt's
// content appears in the terminal prompt, so both say the same.
func TestPromptForMatchesRender(t *testing.T) {
	for _, req := range []Request{sampleRequest(), {Capabilities: []string{"files"}, Verified: "Acme\x1b[2J"}} {
		p := PromptFor(req)
		term := Render(req, time.Minute)
		flat := strings.Join(strings.Fields(term), " ")
		for _, l := range p.Head {
			if !strings.Contains(term, l) {
				t.Errorf("head line %q not in the terminal prompt", l)
			}
		}
		for _, c := range p.Caps {
			if !strings.Contains(term, c.Name+": "+c.Meaning) {
				t.Errorf("capability %q not in the terminal prompt", c.Name)
			}
		}
		for _, n := range p.Notes {
			if !strings.Contains(flat, n) {
				t.Errorf("note %q not in the terminal prompt", n)
			}
		}
		if !strings.Contains(term, "Security code: "+p.SecurityCode) {
			t.Errorf("security code %q not in the terminal prompt", p.SecurityCode)
		}
		for _, s := range append(append([]string{}, p.Head...), p.Notes...) {
			if strings.ContainsAny(s, "\x1b\x07\n\u202e") {
				t.Errorf("unsanitized text %q", s)
			}
		}
	}
}

func TestGrant(t *testing.T) {
	req := sampleRequest() // shell, files, clipboard
	tests := []struct {
		chosen []string
		want   []string
	}{
		{[]string{"clipboard", "shell"}, []string{"shell", "clipboard"}},
		{[]string{"shell", "shell", "bogus"}, []string{"shell"}},
		{nil, nil},
		{[]string{"bogus"}, nil},
	}
	for _, tt := range tests {
		d := Grant(req, tt.chosen)
		if d.Granted != (tt.want != nil) || !slices.Equal(d.Capabilities, tt.want) {
			t.Errorf("Grant(%v) = %+v, want %v", tt.chosen, d, tt.want)
		}
		if !d.Granted && d.Why != WhyRefused {
			t.Errorf("Grant(%v) refused with %q", tt.chosen, d.Why)
		}
	}
}
