package backup

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// sample writes a small valid archive.
func sample(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewWriter(&buf, t0)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(w.File(DatabaseName, 0o600, 4, strings.NewReader("bolt")))
	must(w.Dir("tls"))
	must(w.File("tls/cert.pem", 0o644, 4, strings.NewReader("cert")))
	must(w.File("tls/key.pem", 0o600, 3, strings.NewReader("key")))
	must(w.Dir("recordings"))
	must(w.File("recordings/ab.rec", 0o600, 0, strings.NewReader("")))
	must(w.Close(Manifest{Created: t0, Online: true, Fingerprint: "SHA256:00"}))
	return buf.Bytes()
}

func TestRoundTrip(t *testing.T) {
	root := t.TempDir()
	m, err := Extract(bytes.NewReader(sample(t)), root)
	if err != nil {
		t.Fatal(err)
	}
	if !m.Online || m.Fingerprint != "SHA256:00" || !m.Created.Equal(t0) || len(m.Files) != 4 {
		t.Errorf("manifest %+v", m)
	}
	for name, want := range map[string]struct {
		body string
		mode fs.FileMode
	}{DatabaseName: {"bolt", 0o600}, "tls/cert.pem": {"cert", 0o644}, "tls/key.pem": {"key", 0o600}, "recordings/ab.rec": {"", 0o600}} {
		p := filepath.Join(root, name)
		b, err := os.ReadFile(p)
		st, _ := os.Stat(p)
		if err != nil || string(b) != want.body || st.Mode().Perm() != want.mode {
			t.Errorf("%s: %q mode %v, %v; want %q %v", name, b, st.Mode().Perm(), err, want.body, want.mode)
		}
	}
	if st, err := os.Stat(filepath.Join(root, "tls")); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("tls dir: %v %v", st.Mode(), err)
	}
}

// TestWriterRefuses: the writer will not make an archive the reader
// would refuse.
func TestWriterRefuses(t *testing.T) {
	w := NewWriter(io.Discard, t0)
	if err := w.Dir("tls"); err == nil {
		t.Error("a directory before the database")
	}
	if err := w.File(DatabaseName, 0o600, 5, strings.NewReader("four")); err == nil {
		t.Error("a short file")
	}
	w = NewWriter(io.Discard, t0)
	w.File(DatabaseName, 0o600, 1, strings.NewReader("x"))
	for _, name := range []string{"../x", "/abs", "a/./b", DatabaseName, ManifestName, "a\\b", "a\x1bb"} {
		if err := w.File(name, 0o600, 0, strings.NewReader("")); err == nil {
			t.Errorf("accepted %q", name)
		}
	}
}

// rawTar builds a tar from headers and bodies, for archives the Writer
// would not make.
func rawTar(t *testing.T, ents ...any) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(ents); i += 2 {
		h := ents[i].(*tar.Header)
		body := ents[i+1].(string)
		if h.Typeflag == tar.TypeReg && h.Size == 0 {
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	tw.Close()
	return buf.Bytes()
}

func reg(name string) *tar.Header { return &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600} }

// TestReadRefuses: each damaged or hostile archive is refused with an
// error wrapping ErrInvalid, and nothing of it escapes the root.
func TestReadRefuses(t *testing.T) {
	good := sample(t)
	flipped := bytes.Clone(good)
	flipped[bytes.Index(flipped, []byte("cert"))] ^= 1
	manifest := func(files string) string {
		return `{"format":"tether-backup","version":1,"created":"2026-12-01T12:00:00Z","online":false,"files":[` + files + `]}`
	}
	dbFile := `{"name":"relay.db","size":1,"sha256":"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"}`
	cases := map[string][]byte{
		"empty":           {},
		"garbage":         bytes.Repeat([]byte{0xff}, 2048),
		"cut":             good[:len(good)/2],
		"cut at boundary": good[:bytes.Index(good, []byte(ManifestName))],
		"bit flip":        flipped,
		"symlink": rawTar(t, reg(DatabaseName), "x",
			&tar.Header{Typeflag: tar.TypeSymlink, Name: "tls", Linkname: "/etc"}, ""),
		"traversal":       rawTar(t, reg(DatabaseName), "x", reg("../evil"), "x"),
		"absolute":        rawTar(t, reg(DatabaseName), "x", reg("/tmp/evil"), "x"),
		"no database":     rawTar(t, reg("tls/key.pem"), "x", reg(ManifestName), manifest("")),
		"duplicate":       rawTar(t, reg(DatabaseName), "x", reg("a"), "1", reg("a"), "2"),
		"under a file":    rawTar(t, reg(DatabaseName), "x", reg("a"), "1", reg("a/b"), "2"),
		"unlisted file":   rawTar(t, reg(DatabaseName), "x", reg("extra"), "y", reg(ManifestName), manifest(dbFile)),
		"after manifest":  rawTar(t, reg(DatabaseName), "x", reg(ManifestName), manifest(dbFile), reg("late"), "z"),
		"wrong version":   rawTar(t, reg(DatabaseName), "x", reg(ManifestName), strings.Replace(manifest(dbFile), `"version":1`, `"version":2`, 1)),
		"unknown field":   rawTar(t, reg(DatabaseName), "x", reg(ManifestName), strings.Replace(manifest(dbFile), `"online"`, `"x":1,"online"`, 1)),
		"device":          rawTar(t, reg(DatabaseName), "x", &tar.Header{Typeflag: tar.TypeChar, Name: "null"}, ""),
		"hard link":       rawTar(t, reg(DatabaseName), "x", &tar.Header{Typeflag: tar.TypeLink, Name: "l", Linkname: DatabaseName}, ""),
		"no manifest":     rawTar(t, reg(DatabaseName), "x"),
		"database is dir": rawTar(t, &tar.Header{Typeflag: tar.TypeDir, Name: DatabaseName + "/"}, ""),
	}
	if _, err := Read(bytes.NewReader(rawTar(t, reg(DatabaseName), "x", reg(ManifestName), manifest(dbFile))), discard{}); err != nil {
		t.Fatalf("the minimal valid archive is refused: %v", err)
	}
	for name, data := range cases {
		parent := t.TempDir()
		root := filepath.Join(parent, "root")
		os.Mkdir(root, 0o700)
		_, err := Extract(bytes.NewReader(data), root)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", name, err)
		}
		if ents, _ := os.ReadDir(parent); len(ents) != 1 {
			t.Errorf("%s: wrote outside the root: %v", name, ents)
		}
	}
}

// TestExtractNeedsEmptyRoot: a root with anything in it is refused.
func TestExtractNeedsEmptyRoot(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "x"), nil, 0o600)
	if _, err := Extract(bytes.NewReader(sample(t)), root); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("got %v", err)
	}
}

// discard is a Sink that keeps nothing.
type discard struct{}

func (discard) Dir(string) error                          { return nil }
func (discard) File(string, fs.FileMode, io.Reader) error { return nil }

func errorsIsInvalid(err error) bool { return errors.Is(err, ErrInvalid) }
