package relay

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/backup"
	"github.com/tether-support/tether/internal/tlsconf"
)

const testStoreURL = "postgres://tether@db.example/tether"

// memberDir makes a data directory of a cluster member (no database is
// opened: export and sync read files only): store-url, the head key seed,
// a TLS identity and trust files (written by an earlier version, which
// export leaves out).
func memberDir(t testing.TB, seed []byte) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	must(t, os.MkdirAll(dir, 0o700))
	must(t, writeStoreRecord(dir, testStoreURL))
	must(t, writeHeadKey(dir, seed))
	must(t, tlsconf.Generate(tlsDir(dir), nil))
	must(t, os.WriteFile(filepath.Join(dir, "trust-root.json"), []byte(`{"documents":[]}`), 0o600))
	must(t, os.MkdirAll(policyArchiveDir(dir), 0o700))
	must(t, os.WriteFile(filepath.Join(policyArchiveDir(dir), strings.Repeat("ab", 32)), []byte("policy"), 0o600))
	return dir
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// exported exports dir's bundle and returns the file's path.
func exported(t testing.TB, dir string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "cluster.tar")
	if _, err := ExportCluster(dir, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// sampleBundle is the bytes of a valid bundle, with a rotation if rotating.
func sampleBundle(t testing.TB, rotating bool) []byte {
	t.Helper()
	dir := memberDir(t, bytes.Repeat([]byte{7}, 32))
	if rotating {
		if _, err := tlsconf.Rotate(tlsDir(dir), time.Hour, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(exported(t, dir))
	must(t, err)
	return b
}

func TestBundleRoundTrip(t *testing.T) {
	dir := memberDir(t, bytes.Repeat([]byte{1}, 32))
	out := exported(t, dir)
	if st, err := os.Stat(out); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("bundle mode %v, %v; want 0600", st.Mode(), err)
	}
	f, _ := os.Open(out)
	defer f.Close()
	b, err := ReadBundle(f)
	if err != nil {
		t.Fatal(err)
	}
	fp, _ := fingerprint(dir)
	if b.StoreURL != testStoreURL || b.Current != fp || b.Rotation != nil || len(b.Files) != 4 {
		t.Fatalf("bundle %s %s %v %d files", b.StoreURL, b.Current, b.Rotation, len(b.Files))
	}
	if _, err := ExportCluster(dir, out); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("export over an existing file: %v", err)
	}
}

// TestExportLeavesTrustOut: the trust documents are in the database, so
// a bundle carries none of the trust files a data directory still holds;
// a bundle of an earlier version that carries them is still read.
func TestExportLeavesTrustOut(t *testing.T) {
	b, err := ReadBundle(bytes.NewReader(sampleBundle(t, false)))
	must(t, err)
	for name := range b.Files {
		if strings.HasPrefix(name, "trust") {
			t.Errorf("the bundle carries %s", name)
		}
	}
	b.Files["trust-root.json"] = []byte(`{"documents":[]}`)
	b.Files["trust-policies/"+strings.Repeat("ab", 32)] = []byte("policy")
	old, err := ReadBundle(bytes.NewReader(rebundle(t, b.Files, b.Current)))
	must(t, err)
	if len(old.Files) != len(b.Files) {
		t.Errorf("an earlier bundle read with %d files, want %d", len(old.Files), len(b.Files))
	}
}

// TestExportRefusesBolt: a data directory on bbolt has nothing to share.
func TestExportRefusesBolt(t *testing.T) {
	dir := t.TempDir()
	must(t, os.WriteFile(dbPath(dir), []byte("bolt"), 0o600))
	_, err := ExportCluster(dir, filepath.Join(t.TempDir(), "c.tar"))
	if err == nil || !strings.Contains(err.Error(), "bbolt") || !strings.Contains(err.Error(), "relay migrate") {
		t.Fatalf("export of a bbolt directory: %v", err)
	}
}

// rebundle writes files as a bundle, for bundles export would not make.
func rebundle(t *testing.T, files map[string][]byte, fp string) []byte {
	t.Helper()
	var buf bytes.Buffer
	must(t, writeBundle(&buf, &Bundle{Files: files, Current: fp, Created: time.Unix(0, 0)}))
	return buf.Bytes()
}

// TestReadBundleRefuses: each malformed bundle is refused with ErrBundle.
func TestReadBundleRefuses(t *testing.T) {
	good, err := ReadBundle(bytes.NewReader(sampleBundle(t, true)))
	must(t, err)
	other, err := ReadBundle(bytes.NewReader(sampleBundle(t, false)))
	must(t, err)
	edit := func(change func(map[string][]byte)) []byte {
		files := map[string][]byte{}
		for k, v := range good.Files {
			files[k] = v
		}
		change(files)
		return rebundle(t, files, good.Current)
	}
	var backupTar bytes.Buffer
	aw := backup.NewWriter(&backupTar, time.Unix(0, 0))
	aw.File(backup.DatabaseName, 0o600, 1, strings.NewReader("x"))
	aw.Close(backup.Manifest{})
	cases := map[string][]byte{
		"empty":            {},
		"a backup":         backupTar.Bytes(),
		"password in url":  edit(func(f map[string][]byte) { f["store-url"] = []byte("postgres://u:secret@db/x\n") }),
		"not postgres":     edit(func(f map[string][]byte) { f["store-url"] = []byte("file:///etc/passwd") }),
		"unexpected file":  edit(func(f map[string][]byte) { f["relay.db"] = []byte("x") }),
		"recordings":       edit(func(f map[string][]byte) { f["recordings/a.rec"] = []byte("x") }),
		"bad policy name":  edit(func(f map[string][]byte) { f["trust-policies/x"] = []byte("x") }),
		"short head key":   edit(func(f map[string][]byte) { f[headKeyFile] = []byte("short") }),
		"no head key":      edit(func(f map[string][]byte) { delete(f, headKeyFile) }),
		"no key":           edit(func(f map[string][]byte) { delete(f, "tls/key.pem") }),
		"mismatched key":   edit(func(f map[string][]byte) { f["tls/key.pem"] = other.Files["tls/key.pem"] }),
		"half a rotation":  edit(func(f map[string][]byte) { delete(f, "tls/next/key.pem") }),
		"rotation no file": edit(func(f map[string][]byte) { delete(f, "tls/rotation.json") }),
		"wrong next": edit(func(f map[string][]byte) {
			f["tls/next/cert.pem"], f["tls/next/key.pem"] = other.Files["tls/cert.pem"], other.Files["tls/key.pem"]
		}),
		"switching": edit(func(f map[string][]byte) {
			f["tls/rotation.json"] = bytes.Replace(f["tls/rotation.json"], []byte(`"version": 1`), []byte(`"version": 1, "switching": true`), 1)
		}),
		"wrong pin in manifest": rebundle(t, good.Files, other.Current),
	}
	for name, data := range cases {
		if _, err := ReadBundle(bytes.NewReader(data)); !errors.Is(err, ErrBundle) {
			t.Errorf("%s: got %v, want ErrBundle", name, err)
		}
	}
}

// TestSync walks a rotation from one member to another: announce, finish,
// then a bundle of another cluster.
func TestSync(t *testing.T) {
	seed := bytes.Repeat([]byte{3}, 32)
	a := memberDir(t, seed)
	b := filepath.Join(t.TempDir(), "b")
	must(t, os.MkdirAll(b, 0o700))
	// b is a copy of a's shared files (as join makes it).
	bundle := exported(t, a)
	bb, err := readBundleFile(bundle)
	must(t, err)
	must(t, writeBundleFiles(b, bb, bundleOrder(bb.Files)))

	res, err := SyncCluster(b, bundle)
	if err != nil || res.Changed {
		t.Fatalf("sync of an identical bundle: %+v %v", res, err)
	}
	// A rotation started and withdrawn on a: withdrawn on b too.
	_, err = RotateCert(a, time.Hour)
	must(t, err)
	res, err = SyncCluster(b, exported(t, a))
	must(t, err)
	_, err = CancelCertRotation(a)
	must(t, err)
	if res, err = SyncCluster(b, exported(t, a)); err != nil || !res.Withdrawn {
		t.Fatalf("sync of the withdrawal: %+v %v", res, err)
	}
	if r, _ := tlsconf.ReadRotation(tlsDir(b)); r != nil {
		t.Fatalf("b still has a rotation after the withdrawal: %+v", r)
	}

	rot, err := RotateCert(a, time.Hour)
	must(t, err)
	res, err = SyncCluster(b, exported(t, a))
	if err != nil || !res.Changed || res.Switching || res.Next != rot.Next {
		t.Fatalf("sync of the rotation: %+v %v", res, err)
	}
	got, err := tlsconf.ReadRotation(tlsDir(b))
	if err != nil || got == nil || got.Next != rot.Next {
		t.Fatalf("b's rotation after sync: %+v %v", got, err)
	}
	if _, err := tlsconf.LoadNext(tlsDir(b), got); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(tlsDir(b), "next", "key.pem")); st.Mode().Perm() != 0o600 {
		t.Errorf("next key mode %v", st.Mode())
	}

	// The first relay finishes and switches (as its serve would).
	_, err = FinishCertRotation(a)
	must(t, err)
	r, _ := tlsconf.ReadRotation(tlsDir(a))
	must(t, tlsconf.Promote(tlsDir(a), r))
	res, err = SyncCluster(b, exported(t, a))
	if err != nil || !res.Switching || res.Unannounced || res.Current != rot.Next {
		t.Fatalf("sync after the finish: %+v %v", res, err)
	}
	r, _ = tlsconf.ReadRotation(tlsDir(b))
	if r == nil || !r.Due(time.Now()) || r.Next != rot.Next {
		t.Fatalf("b's rotation after the finish: %+v", r)
	}
	must(t, tlsconf.Promote(tlsDir(b), r))
	if fp, _ := fingerprint(b); fp != rot.Next {
		t.Fatalf("b serves %s after its switch, want %s", fp, rot.Next)
	}

	// A member that missed the announcement, and a bundle with a further
	// rotation: switched with a warning, the further rotation left for a
	// second sync.
	late := filepath.Join(t.TempDir(), "late")
	must(t, os.MkdirAll(late, 0o700))
	must(t, writeBundleFiles(late, bb, bundleOrder(bb.Files)))
	_, err = RotateCert(a, time.Hour)
	must(t, err)
	res, err = SyncCluster(late, exported(t, a))
	if err != nil || !res.Switching || !res.Unannounced || !res.Again {
		t.Fatalf("sync of a member two steps behind: %+v %v", res, err)
	}
	r, _ = tlsconf.ReadRotation(tlsDir(late))
	must(t, tlsconf.Promote(tlsDir(late), r))
	if res, err = SyncCluster(late, exported(t, a)); err != nil || res.Switching || res.Next == "" {
		t.Fatalf("second sync of that member: %+v %v", res, err)
	}

	// Another cluster: another head key, or another database.
	c := memberDir(t, bytes.Repeat([]byte{4}, 32))
	if _, err := SyncCluster(b, exported(t, c)); err == nil || !strings.Contains(err.Error(), "another cluster") {
		t.Errorf("sync from another head key: %v", err)
	}
	d := memberDir(t, seed)
	must(t, writeStoreRecord(d, "postgres://tether@other/tether"))
	if _, err := SyncCluster(b, exported(t, d)); err == nil || !strings.Contains(err.Error(), "another cluster") {
		t.Errorf("sync from another database: %v", err)
	}
}

// FuzzReadBundle: any input is refused with ErrBundle or read into a
// bundle that passes its own checks and writes back to an equal one.
func FuzzReadBundle(f *testing.F) {
	f.Add(sampleBundle(f, false))
	f.Add(sampleBundle(f, true))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := ReadBundle(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrBundle) {
				t.Fatalf("error not wrapping ErrBundle: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		if err := writeBundle(&buf, b); err != nil {
			t.Fatalf("an accepted bundle does not write back: %v", err)
		}
		again, err := ReadBundle(&buf)
		if err != nil || again.Current != b.Current || again.StoreURL != b.StoreURL || len(again.Files) != len(b.Files) {
			t.Fatalf("rewritten bundle: %v", err)
		}
	})
}
