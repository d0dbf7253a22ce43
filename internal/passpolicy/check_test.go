package passpolicy

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	p := Default()
	classy := Default()
	classy.RequireClasses = 3
	short := Default()
	short.MinLength = 8
	tests := []struct {
		name     string
		p        Policy
		user, pw string
		rule     string // "" means accepted
	}{
		{"ok passphrase", p, "alice", "correct horse battery staple", ""},
		{"11 runes", p, "alice", "abcdefghijk", RuleTooShort},
		{"12 runes", p, "alice", "vbkqwjzmxplr", ""},
		{"runes not bytes", p, "alice", "ééééééééééé", RuleTooShort},
		{"12 multibyte runes", p, "alice", "éééééééééééx", ""},
		{"129 runes", p, "alice", strings.Repeat("xk", 64) + "z", RuleTooLong},
		{"128 runes", p, "alice", strings.Repeat("xk", 64), ""},
		{"nul", p, "alice", "correct horse\x00battery", RuleNULByte},
		{"invalid utf8", p, "alice", "correct horse \xff battery", RuleInvalidUTF8},
		{"blocklisted", p, "alice", "Password123!", RuleBlocklisted},
		{"blocklisted season", short, "alice", "Summer2024!", RuleBlocklisted},
		{"blocklisted hospital", p, "alice", "hospital1234", RuleBlocklisted},
		{"contains username", p, "Alice", "my name is ALICE ok", RuleContainsUsername},
		{"short username ignored", p, "al", "al is my friend!", ""},
		{"complexity 2 of 3", classy, "bob", "lowercaseand123", RuleComplexity},
		{"complexity 3 of 3", classy, "bob", "Lowercaseand123", ""},
		{"complexity symbols", classy, "bob", "lowercase-and-123", ""},
	}
	for _, tt := range tests {
		err := tt.p.Check(tt.user, tt.pw)
		if tt.rule == "" {
			if err != nil {
				t.Errorf("%s: Check = %v, want nil", tt.name, err)
			}
			continue
		}
		var v *Violation
		if !errors.As(err, &v) || v.Rule != tt.rule {
			t.Errorf("%s: Check = %v, want rule %s", tt.name, err, tt.rule)
			continue
		}
		if !errors.Is(err, ErrRejected) {
			t.Errorf("%s: errors.Is(err, ErrRejected) = false, want true", tt.name)
		}
		if strings.Contains(v.Message, tt.pw) {
			t.Errorf("%s: message %q contains the password", tt.name, v.Message)
		}
	}
}

func TestClasses(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0}, {"abc", 1}, {"aB", 2}, {"aB1", 3}, {"aB1!", 4}, {"a b", 2}, {"密码", 1}, {"Éé٣", 3},
	}
	for _, tt := range tests {
		if got := classes(tt.in); got != tt.want {
			t.Errorf("classes(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestBlocklisted(t *testing.T) {
	for _, pw := range []string{
		"password", "123456", "qwerty", "QWERTY", "qwertyuiop", "welcome1", "Summer2024!",
		"Password123!", "letmein", "admin123", "changeme", "hospital123", "nurse2024",
		"1qaz2wsx", "asdfghjkl", "Winter2025", "P@ssw0rd", "iloveyou", "trustno1",
	} {
		if !Blocklisted(pw) {
			t.Errorf("Blocklisted(%q) = false, want true", pw)
		}
	}
	for _, pw := range []string{"", "correct horse battery staple", "vbkqwjzmxplr", "password\n"} {
		if Blocklisted(pw) {
			t.Errorf("Blocklisted(%q) = true, want false", pw)
		}
	}
	if n := len(blocklist()); n < 2000 {
		t.Errorf("blocklist has %d entries, want at least 2000", n)
	}
}

func TestBlocklistFileLowercase(t *testing.T) {
	for line := range strings.Lines(blocklistText) {
		w := strings.TrimSuffix(line, "\n")
		if w == "" || w != strings.ToLower(w) || strings.TrimSpace(w) != w {
			t.Fatalf("blocklist line %q: want lowercase, trimmed, non-empty", w)
		}
	}
}

func TestReused(t *testing.T) {
	var v *Violation
	if err := error(Reused()); !errors.As(err, &v) || v.Rule != RuleReused {
		t.Errorf("Reused() = %v, want rule %s", err, RuleReused)
	}
}
