package recordings

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestKeyStringRoundTrip(t *testing.T) {
	id := testIdentities(t, 1)[0]
	id2, err := ParseIdentity(id.String())
	if err != nil {
		t.Fatalf("ParseIdentity: %v", err)
	}
	if got, want := id2.Recipient().String(), id.Recipient().String(); got != want {
		t.Errorf("got recipient %s, want %s", got, want)
	}
	r, err := ParseRecipient(id.Recipient().String())
	if err != nil {
		t.Fatalf("ParseRecipient: %v", err)
	}
	if r.KeyID() != id.Recipient().KeyID() {
		t.Errorf("got key ID %x, want %x", r.KeyID(), id.Recipient().KeyID())
	}
	if !strings.HasPrefix(id.String(), IdentityPrefix) || !strings.HasPrefix(r.String(), RecipientPrefix) {
		t.Errorf("got %.30s… and %.30s…, want prefixes %s and %s", id, r, IdentityPrefix, RecipientPrefix)
	}
}

func TestParseKeyErrors(t *testing.T) {
	id := testIdentities(t, 1)[0]
	is, rs := id.String(), id.Recipient().String()
	swapLast := func(s string) string { // changes a character near the end
		i, c := len(s)-10, byte('A')
		if s[i] == 'A' {
			c = 'B'
		}
		return s[:i] + string(c) + s[i+1:]
	}
	tests := []struct {
		name, in string
		parse    func(string) error
		wantMsg  string
	}{
		{"identity empty", "", parseID, "prefix"},
		{"identity as recipient", is, parseRcpt, "prefix"},
		{"identity lowercase prefix", strings.ToLower(IdentityPrefix) + is[len(IdentityPrefix):], parseID, "prefix"},
		{"identity short", is[:len(is)-4], parseID, "length"},
		{"identity long", is + "AAAA", parseID, "length"},
		{"identity bad checksum", swapLast(is), parseID, "checksum"},
		{"identity bad char", is[:30] + "!" + is[31:], parseID, "encoding"},
		{"recipient as identity", rs, parseID, "prefix"},
		{"recipient short", rs[:len(rs)-8], parseRcpt, "length"},
		{"recipient bad checksum", swapLast(rs), parseRcpt, "checksum"},
		{"recipient padded", rs + "==", parseRcpt, "encoding"},
		{"identity with newline", is[:40] + "\n" + is[40:], parseID, "encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse(tt.in)
			if !errors.Is(err, ErrInvalidKey) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("got error %v, want ErrInvalidKey mentioning %q", err, tt.wantMsg)
			}
		})
	}
}

func parseID(s string) error   { _, err := ParseIdentity(s); return err }
func parseRcpt(s string) error { _, err := ParseRecipient(s); return err }

func TestIdentityFile(t *testing.T) {
	id := testIdentities(t, 1)[0]
	path := filepath.Join(t.TempDir(), "reviewer.key")
	if err := WriteIdentityFile(path, id); err != nil {
		t.Fatalf("WriteIdentityFile: %v", err)
	}
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("got mode %04o, want 0600", got)
		}
	}
	got, err := ReadIdentityFile(path)
	if err != nil {
		t.Fatalf("ReadIdentityFile: %v", err)
	}
	if got.String() != id.String() {
		t.Errorf("got a different identity back")
	}
	err = WriteIdentityFile(path, testIdentities(t, 2)[1])
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("overwrite: got error %v, want fs.ErrExist", err)
	}
	if again, _ := ReadIdentityFile(path); again == nil || again.String() != id.String() {
		t.Errorf("refused overwrite still changed the file")
	}
}

func TestReadIdentityFileRefusesOpenMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660} {
		path := filepath.Join(t.TempDir(), "key")
		if err := os.WriteFile(path, []byte(testIdentities(t, 1)[0].String()+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, err := ReadIdentityFile(path)
		if !errors.Is(err, ErrInsecureKeyFile) || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: got error %v, want ErrInsecureKeyFile with a chmod hint", mode, err)
		}
	}
}

func TestParseIdentityFileContents(t *testing.T) {
	ids := testIdentities(t, 2)
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"comments and blanks", "# comment\n\n  " + ids[0].String() + "  \n# trailing\n", ""},
		{"crlf", "# c\r\n" + ids[0].String() + "\r\n", ""},
		{"empty", "# nothing here\n\n", "no identity found"},
		{"two identities", ids[0].String() + "\n" + ids[1].String() + "\n", "line 2: more than one identity"},
		{"garbage", "hello\n", "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := parseIdentityFile(strings.NewReader(tt.in))
			if tt.wantErr == "" {
				if err != nil || id.String() != ids[0].String() {
					t.Errorf("got %v, want the first identity", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
