package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestPrompterFromStdin reads secrets from standard input as the
// --password-stdin flags do, and refuses to ask when it is no terminal.
func TestPrompterFromStdin(t *testing.T) {
	tests := []struct {
		name, in string
		read     func(p prompter) (string, error)
		want     string
		wantErr  string
	}{
		{"password", "pw one\r\nrest\n", func(p prompter) (string, error) { return p.password(true, "") }, "pw one", ""},
		{"password, last line unterminated", "pw", func(p prompter) (string, error) { return p.password(true, "") }, "pw", ""},
		{"password, none", "", func(p prompter) (string, error) { return p.password(true, "") }, "", "--password-stdin: no password on standard input"},
		{"reauth", "cur\n", func(p prompter) (string, error) { return p.reauth(true) }, "cur", ""},
		{"reauth, none", "", func(p prompter) (string, error) { return p.reauth(true) }, "", "--password-stdin: no password on standard input"},
		{"passwords", "old\nnew\n", func(p prompter) (string, error) {
			cur, next, err := p.passwords(true)
			return cur + "|" + next, err
		}, "old|new", ""},
		{"passwords, one line", "old\n", func(p prompter) (string, error) {
			cur, next, err := p.passwords(true)
			return cur + next, err
		}, "", "--password-stdin: give the current and the new password on two lines"},
		{"no terminal to ask", "x\n", func(p prompter) (string, error) { return p.password(false, "Password: ") },
			"", "no terminal to ask for the password; pipe it in with --password-stdin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "stdin")
			if err := os.WriteFile(path, []byte(tt.in), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := tt.read(prompter{in: f, stderr: io.Discard})
			switch {
			case tt.wantErr == "" && (err != nil || got != tt.want):
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Errorf("got %q, %v; want the error %q", got, err, tt.wantErr)
			}
		})
	}
}
