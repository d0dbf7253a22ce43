package consent

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func sampleRequest() Request {
	return Request{
		SessionID:    "s-123",
		TechName:     "Alice\x1b]52;c;SGVsbG8=\x07\x1b[2J\u202Eevil\nroot",
		TechUser:     "alice",
		Org:          "Acme IT",
		Capabilities: []string{"shell", "files", "clipboard"},
		Recorded:     true,
		SecurityCode: "1234-5678",
		Reason:       "Ticket #42: printer",
	}
}

func TestRenderContents(t *testing.T) {
	got := Render(sampleRequest(), 60*time.Second)
	for _, want := range []string{
		"Alice<U+202E>evil\\nroot (alice)",
		"Acme IT",
		"Ticket #42: printer",
		"shell: run commands on this computer",
		"files: copy files to and from this computer",
		"clipboard: read and set your clipboard",
		"This session will be recorded.",
		"1234-5678",
		"Ask the technician to read this code to you; it must match",
		"Allow? Type y or yes to allow all, or the names of those you allow (e.g. shell); anything else refuses (refused automatically in 60s):",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Render() = %q\nmissing %q", got, want)
		}
	}
	for _, bad := range []string{"\x1b", "\x07", "\u202E", "SGVsbG8"} {
		if strings.Contains(got, bad) {
			t.Errorf("Render() contains %q", bad)
		}
	}
}

func TestRenderVariants(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Request)
		timeout time.Duration
		want    []string
		notWant []string
	}{
		{"not recorded", func(r *Request) { r.Recorded = false }, time.Minute,
			[]string{"This session will not be recorded."}, []string{"will be recorded"}},
		{"no reason", func(r *Request) { r.Reason = "" }, time.Minute,
			nil, []string{"Reason:"}},
		{"timeout 90s", func(r *Request) {}, 90 * time.Second,
			[]string{"refused automatically in 90s"}, nil},
		{"unknown capability", func(r *Request) { r.Capabilities = []string{"webcam"} }, time.Minute,
			[]string{"webcam: unknown capability"}, []string{"shell:"}},
		{"no capabilities", func(r *Request) { r.Capabilities = nil }, time.Minute,
			[]string{"(nothing)"}, nil},
		{"long reason capped", func(r *Request) { r.Reason = strings.Repeat("r", 500) }, time.Minute,
			[]string{strings.Repeat("r", 200) + "…"}, []string{strings.Repeat("r", 201)}},
		{"long name capped", func(r *Request) { r.TechName = strings.Repeat("n", 500) }, time.Minute,
			[]string{strings.Repeat("n", 80) + "…"}, []string{strings.Repeat("n", 81)}},
		{"hostile org", func(r *Request) { r.Org = "Acme\r\x1b[1A" }, time.Minute,
			[]string{`Acme\r`}, []string{"\x1b", "\r"}},
		{"verified", func(r *Request) { r.Verified = "Acme IT" }, time.Minute,
			[]string{"Identity:     verified by Acme IT"}, nil},
		{"not verified", func(r *Request) {}, time.Minute,
			nil, []string{"verified by"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := sampleRequest()
			tt.edit(&req)
			got := Render(req, tt.timeout)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Render() = %q\nmissing %q", got, w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(got, w) {
					t.Errorf("Render() = %q\ncontains %q", got, w)
				}
			}
		})
	}
}

func TestParseAnswer(t *testing.T) {
	req := sampleRequest()
	tests := []struct {
		line    string
		granted bool
	}{
		{"y", true},
		{"yes", true},
		{"Y", true},
		{"YES", true},
		{"  yEs \r\n", true},
		{"", false},
		{"n", false},
		{"no", false},
		{"yes please", false},
		{"yy", false},
		{"ye", false},
		{"\x1b[Ay", false},
	}
	for _, tt := range tests {
		d := ParseAnswer(tt.line, req)
		if d.Granted != tt.granted {
			t.Errorf("ParseAnswer(%q).Granted = %v, want %v", tt.line, d.Granted, tt.granted)
		}
		if tt.granted && !slices.Equal(d.Capabilities, req.Capabilities) {
			t.Errorf("ParseAnswer(%q).Capabilities = %v, want %v", tt.line, d.Capabilities, req.Capabilities)
		}
		if !tt.granted && (len(d.Capabilities) != 0 || d.Why != WhyRefused) {
			t.Errorf("ParseAnswer(%q) = %+v, want no capabilities and Why %q", tt.line, d, WhyRefused)
		}
	}
}

func TestParseAnswerCopiesCapabilities(t *testing.T) {
	req := sampleRequest()
	d := ParseAnswer("y", req)
	d.Capabilities[0] = "changed"
	if req.Capabilities[0] != "shell" {
		t.Errorf("request capabilities changed to %v through the decision", req.Capabilities)
	}
}

func TestParseAnswerSubset(t *testing.T) {
	req := sampleRequest() // shell, files, clipboard
	tests := []struct {
		line string
		want []string
	}{
		{"shell", []string{"shell"}},
		{"shell, clipboard", []string{"shell", "clipboard"}},
		{"files files", []string{"files"}},
		{"shell,root", nil},
		{"admin", nil},
	}
	for _, tt := range tests {
		d := ParseAnswer(tt.line, req)
		if d.Granted != (tt.want != nil) || !slices.Equal(d.Capabilities, tt.want) {
			t.Errorf("ParseAnswer(%q) = %+v, want granted %v", tt.line, d, tt.want)
		}
	}
}

// TestRenderWarnsAboutFilesWithoutShell checks the plain-words note that
// copies onto the device cannot reach start-up files without the shell.
func TestRenderWarnsAboutFilesWithoutShell(t *testing.T) {
	tests := []struct {
		caps  []string
		shell bool // already granted
		note  bool
	}{
		{[]string{"files:to-device"}, false, true},
		{[]string{"files"}, false, true},
		{[]string{"files", "clipboard"}, false, true},
		{[]string{"files:to-device", "shell"}, false, false},
		{[]string{"files:to-device"}, true, false},
		{[]string{"files:from-device"}, false, false},
		{[]string{"shell"}, false, false},
	}
	for _, tc := range tests {
		req := sampleRequest()
		req.Capabilities, req.ShellGranted = tc.caps, tc.shell
		got := strings.Contains(Render(req, time.Minute), "Without shell, files copied onto this computer may not go into hidden files")
		if got != tc.note {
			t.Errorf("Render(%v, shell granted %v) has the note: %v, want %v", tc.caps, tc.shell, got, tc.note)
		}
	}
}
