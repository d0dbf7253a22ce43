package relay

import (
	"bytes"
	"crypto/ed25519"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/backup"
	"github.com/tether-support/tether/internal/tlsconf"
)

// The cluster bundle is what every relay of a cluster shares besides the
// database: the cluster key (the TLS identity, and the next one during a
// rotation), the audit head-signing key and the name of the database. The
// trust documents are in the database (trustdocs.go); a bundle an earlier
// version wrote may still carry them as files, which are accepted and
// imported by the relay where the database has none. It is an archive in package backup's layout (its own
// manifest and format names, so a backup is never read as a bundle) of a
// fixed set of files; anything else is refused. docs/cli.md describes it.

// BundleKind is the cluster bundle's archive kind.
var BundleKind = backup.Kind{Format: "tether-cluster", Manifest: "tether-cluster.json", First: "store-url"}

// Limits of a bundle.
const (
	// MaxBundleFile bounds one file of a bundle.
	MaxBundleFile = 16 << 20
	// MaxBundle bounds a whole bundle.
	MaxBundle = 64 << 20
	// maxBundlePolicies bounds how many archived policies a bundle holds.
	maxBundlePolicies = 10_000
)

// Names of a bundle's entries, each the path of the file in a data
// directory.
var (
	bundleTLSFiles  = []string{"tls/" + tlsconf.CertFile, "tls/" + tlsconf.KeyFile}
	bundleNextFiles = []string{"tls/" + tlsconf.RotationFile, "tls/next/" + tlsconf.CertFile, "tls/next/" + tlsconf.KeyFile}
	// bundleTrustFiles are the trust files an earlier version's bundle
	// may carry, each optional.
	bundleTrustFiles = trustFileNames
	bundleDirs       = []string{"tls", "tls/next", "trust-policies"}
	policyName       = regexp.MustCompile(`^trust-policies/[0-9a-f]{64}$`)
)

// bundleAllows reports whether name may be a file of a bundle.
func bundleAllows(name string) bool {
	return name == BundleKind.First || name == headKeyFile || slices.Contains(bundleTLSFiles, name) ||
		slices.Contains(bundleNextFiles, name) || slices.Contains(bundleTrustFiles, name) || policyName.MatchString(name)
}

// Bundle is a cluster bundle read and checked by ReadBundle.
type Bundle struct {
	// StoreURL is the cluster's database, without a password.
	StoreURL string
	// Current is the cluster key's pin; Rotation the pending rotation
	// (its Next the next key's pin), nil when none is under way.
	Current  string
	Rotation *tlsconf.Rotation
	// Created is when the bundle was written.
	Created time.Time
	// Files holds every file by its name in the data directory.
	Files map[string][]byte
}

// HeadKey returns the audit head-signing key's public half.
func (b *Bundle) HeadKey() ed25519.PublicKey {
	return ed25519.NewKeyFromSeed(b.Files[headKeyFile]).Public().(ed25519.PublicKey)
}

// ErrBundle is wrapped by every error about a malformed cluster bundle.
var ErrBundle = errors.New("not a valid Tether cluster bundle")

// bundleErr returns an error wrapping ErrBundle.
func bundleErr(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrBundle, fmt.Sprintf(format, a...))
}

// ReadBundle reads and checks a cluster bundle: the archive whole
// (package backup's checks), only the files a bundle may hold, each at
// most MaxBundleFile, a database URL without a password, an audit head
// key of the right size, a TLS key pair that matches, and a rotation
// whose next key pair is the one it names. Every error wraps ErrBundle.
func ReadBundle(r io.Reader) (*Bundle, error) {
	sink := &bundleSink{files: map[string][]byte{}}
	m, err := backup.ReadKind(io.LimitReader(r, MaxBundle), sink, BundleKind)
	if err != nil {
		if errors.Is(err, backup.ErrInvalid) {
			return nil, fmt.Errorf("%w: %v", ErrBundle, err)
		}
		return nil, err
	}
	b := &Bundle{Files: sink.files, Created: m.Created}
	if err := b.check(); err != nil {
		return nil, err
	}
	if m.Fingerprint != b.Current {
		return nil, bundleErr("the manifest names the pin %q, the certificate is %s", m.Fingerprint, b.Current)
	}
	return b, nil
}

// bundleSink keeps a bundle's files in memory, refusing any other.
type bundleSink struct {
	files    map[string][]byte
	policies int
}

// Dir accepts the directories a bundle may have.
func (s *bundleSink) Dir(name string) error {
	if !slices.Contains(bundleDirs, name) {
		return bundleErr("unexpected directory %q", name)
	}
	return nil
}

// File keeps an allowed file of at most MaxBundleFile bytes.
func (s *bundleSink) File(name string, _ fs.FileMode, r io.Reader) error {
	if !bundleAllows(name) {
		return bundleErr("unexpected file %q", name)
	}
	if strings.HasPrefix(name, "trust-policies/") {
		if s.policies++; s.policies > maxBundlePolicies {
			return bundleErr("more than %d archived policies", maxBundlePolicies)
		}
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxBundleFile+1))
	if err != nil {
		return err
	}
	if len(b) > MaxBundleFile {
		return bundleErr("%s is larger than %d bytes", name, MaxBundleFile)
	}
	s.files[name] = b
	return nil
}

// check checks the files of b and fills in its other fields.
func (b *Bundle) check() error {
	u := strings.TrimSpace(string(b.Files[BundleKind.First]))
	if err := CheckStoreFlagURL(u); err != nil || u == "" {
		return bundleErr("store-url is not a postgres:// URL without a password")
	}
	b.StoreURL = u
	if len(b.Files[headKeyFile]) != ed25519.SeedSize {
		return bundleErr("%s is missing or not %d bytes", headKeyFile, ed25519.SeedSize)
	}
	fp, err := bundleKeyPair(b.Files, "tls/")
	if err != nil {
		return err
	}
	b.Current = fp
	return b.checkRotation()
}

// checkRotation checks the rotation files: all present or none, the
// rotation valid and not half switched, naming the next key pair's pin.
func (b *Bundle) checkRotation() error {
	n := 0
	for _, name := range bundleNextFiles {
		if _, ok := b.Files[name]; ok {
			n++
		}
	}
	switch {
	case n == 0:
		return nil
	case n != len(bundleNextFiles):
		return bundleErr("a rotation needs all of %s", strings.Join(bundleNextFiles, ", "))
	}
	rot, err := tlsconf.ParseRotation(b.Files[bundleNextFiles[0]])
	if err != nil {
		return bundleErr("%v", err)
	}
	if rot.Switching {
		return bundleErr("the rotation was caught half way through its switch")
	}
	next, err := bundleKeyPair(b.Files, "tls/next/")
	if err != nil {
		return err
	}
	if next != rot.Next || next == b.Current {
		return bundleErr("the rotation names %s, the next certificate is %s (current %s)", rot.Next, next, b.Current)
	}
	b.Rotation = rot
	return nil
}

// bundleKeyPair checks the certificate and key under dir in files and
// returns the certificate's pin.
func bundleKeyPair(files map[string][]byte, dir string) (string, error) {
	cert, key := files[dir+tlsconf.CertFile], files[dir+tlsconf.KeyFile]
	if cert == nil || key == nil {
		return "", bundleErr("%s needs %s and %s", strings.TrimSuffix(dir, "/"), tlsconf.CertFile, tlsconf.KeyFile)
	}
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil || pair.Leaf == nil {
		return "", bundleErr("%s: the key pair does not load: %v", strings.TrimSuffix(dir, "/"), err)
	}
	return tlsconf.Fingerprint(pair.Leaf), nil
}

// writeBundle writes b as an archive to w, its files in a fixed order,
// each directory before its files.
func writeBundle(w io.Writer, b *Bundle) error {
	aw := backup.NewKindWriter(w, b.Created, BundleKind)
	dirs := map[string]bool{}
	for _, name := range bundleOrder(b.Files) {
		if d := path.Dir(name); d != "." && !dirs[d] {
			if parent := path.Dir(d); parent != "." && !dirs[parent] {
				if err := aw.Dir(parent); err != nil {
					return err
				}
				dirs[parent] = true
			}
			if err := aw.Dir(d); err != nil {
				return err
			}
			dirs[d] = true
		}
		body := b.Files[name]
		if err := aw.File(name, 0o600, int64(len(body)), bytes.NewReader(body)); err != nil {
			return err
		}
	}
	return aw.Close(backup.Manifest{Created: b.Created, Fingerprint: b.Current})
}

// bundleOrder lists the names of files in archive order: store-url first,
// then the rest sorted, the tls files before tls/next.
func bundleOrder(files map[string][]byte) []string {
	var names []string
	for name := range files {
		if name != BundleKind.First {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		da, db := strings.Count(a, "/"), strings.Count(b, "/")
		if da != db && strings.HasPrefix(a, "tls/") && strings.HasPrefix(b, "tls/") {
			return da - db
		}
		return strings.Compare(a, b)
	})
	return append([]string{BundleKind.First}, names...)
}
