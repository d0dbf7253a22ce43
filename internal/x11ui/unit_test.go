package x11ui

import (
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/consent"
	"github.com/tether-support/tether/internal/screen"
)

// fixed is the metrics of the built-in "fixed" font.
var fixed = barMetrics{charW: 6, lineH: 13}

func TestEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"José", "Jos\xe9"},
		{"日本", "??"},
		{"a\x1bb\x7f", "a?b?"},
		{"cut…", "cut..."},
	}
	for _, tt := range tests {
		if got := encode(tt.in, 0, 0xff); got != tt.want {
			t.Errorf("encode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := encode("José", 0x20, 0x7e); got != "Jos?" {
		t.Errorf("encode for an ASCII font = %q", got)
	}
}

func TestCut(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abcdef", 6, "abcdef"},
		{"abcdefg", 6, "abc..."},
		{"abcdef", 3, "abc"},
		{"abcdef", 0, ""},
		{"abcdef", -1, ""},
	}
	for _, tt := range tests {
		if got := cut(tt.in, tt.n); got != tt.want {
			t.Errorf("cut(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func TestWho(t *testing.T) {
	tests := []struct {
		name, user, org string
		n               int
		want            string
	}{
		{"Alice", "alice", "Acme", 40, "Alice (alice, Acme)"},
		{"Alice", "alice", "Acme", 15, "Alice (alice)"},
		{"Alice Longname", "alice", "", 13, "Alic... (ali)"},
		{"", "", "", 20, "a technician"},
		{"", "bob", "", 20, "(bob)"},
		{"Carol", "", "", 3, "Car"},
	}
	for _, tt := range tests {
		got := who(tt.name, tt.user, tt.org, tt.n)
		if got != tt.want {
			t.Errorf("who(%q, %q, %q, %d) = %q, want %q", tt.name, tt.user, tt.org, tt.n, got, tt.want)
		}
	}
}

func TestLayoutBar(t *testing.T) {
	long := strings.Repeat("Ω very long technician name ", 20)
	tests := []struct {
		name    string
		info    Info
		sw      int
		buttons []string
		has     string
	}{
		{"viewing", Info{TechName: "Alice", TechUser: "alice"}, 1024, []string{"pause", "end"}, "Alice (alice) is viewing your screen"},
		{"controlling", Info{TechName: "Alice", Control: true}, 1024, []string{"pause", "stop-control", "end"}, "is controlling your screen"},
		{"paused", Info{TechName: "Alice", Paused: true, Control: true}, 1024, []string{"resume", "stop-control", "end"}, "sharing paused"},
		{"long name cut", Info{TechName: long, TechUser: long, Control: true}, 800, []string{"pause", "stop-control", "end"}, "... ("},
		{"escape in name", Info{TechName: "Eve\x1b[2J\u202e"}, 1024, []string{"pause", "end"}, "Tether: Eve<U+202E> is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, bs, w, h := layoutBar(tt.info, tt.sw, fixed, true, 0, 0xff)
			if w > tt.sw || h < fixed.lineH {
				t.Errorf("bar %dx%d on a %d-pixel screen", w, h, tt.sw)
			}
			if !strings.Contains(msg, tt.has) {
				t.Errorf("message %q lacks %q", msg, tt.has)
			}
			var names []string
			for _, b := range bs {
				names = append(names, b.name)
				if b.rect.X+b.rect.W > w || b.rect.Y+b.rect.H > h {
					t.Errorf("button %s at %+v outside the %dx%d bar", b.name, b.rect, w, h)
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.buttons, ",") {
				t.Errorf("buttons %v, want %v", names, tt.buttons)
			}
			checkPrintable(t, msg)
		})
	}
}

// checkPrintable fails when s has a control byte.
func checkPrintable(t *testing.T, s string) {
	t.Helper()
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f || (s[i] >= 0x80 && s[i] < 0xa0) {
			t.Fatalf("control byte %#x in %q", s[i], s)
		}
	}
}

func TestLayoutConsent(t *testing.T) {
	req := consent.Request{TechName: "Eve\x1b[2J", Org: strings.Repeat("O", 300), Reason: strings.Repeat("why ", 60),
		Capabilities: []string{"shell", "files"}, SecurityCode: "1234-5678"}
	v := layoutConsent(consent.PromptFor(req), 640, fixed, 0, 0xff)
	if v.w > 640 {
		t.Errorf("window %d wide on a 640-pixel screen", v.w)
	}
	var text []string
	for _, l := range v.lines {
		checkPrintable(t, l.text)
		if l.x+len(l.text)*fixed.charW > v.w {
			t.Errorf("line %q overflows", l.text)
		}
		text = append(text, l.text)
	}
	all := strings.Join(text, "\n")
	for _, want := range []string{"Technician:   Eve\n", "OOO...\n", "shell: run commands", "files: copy files", "Security code: 1234-5678", "will not be recorded"} {
		if !strings.Contains(all, want) {
			t.Errorf("window text lacks %q:\n%s", want, all)
		}
	}
	if len(v.caps) != 2 || v.caps[0] != "shell" || v.buttons[0].name != "cap-0" || !v.buttons[0].on {
		t.Errorf("checkboxes %+v for caps %v", v.buttons, v.caps)
	}
}

func TestButtonsRoundTrip(t *testing.T) {
	bs := []button{
		{name: "allow", enabled: true, rect: screen.Rect{X: 1, Y: 2, W: 3, H: 4}},
		{name: "deny", enabled: false, rect: screen.Rect{X: 5}},
		{name: "cap-10", enabled: true, rect: screen.Rect{X: 65535, Y: 0, W: 10, H: 10}},
	}
	got, err := parseButtons(formatButtons(bs))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]screen.Rect{"allow": bs[0].rect, "cap-10": bs[2].rect}
	if len(got) != len(want) || got["allow"] != want["allow"] || got["cap-10"] != want["cap-10"] {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestParseButtonsRejects(t *testing.T) {
	for _, in := range []string{
		"allow 1 2 3\n",
		"allow 1 2 3 4 5\n",
		"Allow 1 2 3 4\n",
		"allow 1 2 3 65536\n",
		"allow -1 2 3 4\n",
		"allow 01 2 3 4\n",
		"allow 1 2 3 4\nallow 1 2 3 4\n",
		"allow 1 2 3 4\n\n",
		"\n",
		"al low 1 2 3 4\n",
		strings.Repeat("a", 33) + " 1 2 3 4\n",
		strings.Repeat("x", maxButtonProp+1),
	} {
		if _, err := parseButtons([]byte(in)); err == nil {
			t.Errorf("parseButtons(%q) accepted", in)
		}
	}
}

func TestClicker(t *testing.T) {
	bs := []button{{name: "a", enabled: true, rect: screen.Rect{W: 10, H: 10}},
		{name: "b", enabled: true, rect: screen.Rect{X: 20, W: 10, H: 10}},
		{name: "off", rect: screen.Rect{X: 40, W: 10, H: 10}}}
	var c clicker
	tests := []struct {
		px, py, rx, ry int
		want           string
	}{
		{5, 5, 6, 6, "a"},
		{5, 5, 25, 5, ""},   // pressed on a, released on b
		{15, 5, 5, 5, ""},   // pressed outside
		{45, 5, 45, 5, ""},  // disabled
		{25, 9, 29, 0, "b"}, // inside b
	}
	for _, tt := range tests {
		c.event(bs, true, tt.px, tt.py)
		if got := c.event(bs, false, tt.rx, tt.ry); got != tt.want {
			t.Errorf("press %d,%d release %d,%d: %q, want %q", tt.px, tt.py, tt.rx, tt.ry, got, tt.want)
		}
	}
}

func FuzzParseButtons(f *testing.F) {
	f.Add([]byte("allow 10 20 30 40\ndeny 0 0 1 1\n"))
	f.Add([]byte("cap-0 1 2 3 4"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, p []byte) {
		bs, err := parseButtons(p)
		if err != nil {
			return
		}
		if len(bs) > maxButtons {
			t.Fatalf("%d buttons", len(bs))
		}
		var in []button
		for name, r := range bs {
			if !validName(name) || r.X > 65535 || r.Y > 65535 || r.W > 65535 || r.H > 65535 || r.X < 0 {
				t.Fatalf("accepted %q %+v", name, r)
			}
			in = append(in, button{name: name, rect: r, enabled: true})
		}
		again, err := parseButtons(formatButtons(in))
		if err != nil || len(again) != len(bs) {
			t.Fatalf("round trip: %v, %v", again, err)
		}
	})
}

func FuzzBarMessage(f *testing.F) {
	f.Add("Alice", "alice", "Acme IT", 100, true, false)
	f.Add("\x1b[2J\u202e", "", "", 5, false, true)
	f.Add(strings.Repeat("日本", 50), "x", "y", 0, true, true)
	f.Fuzz(func(t *testing.T, name, user, org string, cells int, control, paused bool) {
		cells = max(min(cells, 400), 0)
		msg := barMessage(Info{TechName: name, TechUser: user, Org: org, Control: control, Paused: paused}, cells, true, 0, 0xff)
		if len(msg) > max(cells, 12+len("Tether: ")+len(" is controlling your screen")) {
			t.Fatalf("message of %d cells for %d: %q", len(msg), cells, msg)
		}
		if len(msg) > cells && cells >= 60 {
			t.Fatalf("message of %d cells does not fit %d: %q", len(msg), cells, msg)
		}
		checkPrintable(t, msg)
	})
}
