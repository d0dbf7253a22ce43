package relay

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"

	"github.com/tether-support/tether/internal/store"
)

// Where the trust documents live. A relay alone on bbolt keeps them in
// files of its data directory, as it always did. Relays sharing a
// PostgreSQL database keep them in the database (Meta, under
// trustMetaPrefix and the file's name), so a document published through
// any relay is in force on every relay at once; a change takes the
// cluster-wide lock (store.Locker) around its read-modify-write. Files a
// data directory holds from before are imported once, at start, under
// names the database does not have yet (importTrustFiles), and read only
// for names it lacks.

// trustMetaPrefix prefixes a trust document's Meta key.
const trustMetaPrefix = "trust/"

// trustLock is the name of the cluster-wide lock of trust changes.
const trustLock = "trust"

// trustFileNames are the trust documents' file names, besides the policy
// archive's (trust-policies/HASH).
var trustFileNames = []string{"trust-root.json", "trust-policy.json", "trust-revocations.json", "tech-certs.json"}

// trustDocs reads and writes trust documents by file name ("trust-root.json",
// "trust-policies/HASH").
type trustDocs struct {
	dir  string
	meta store.Meta // the shared database; nil: the files alone
}

// newTrustDocs returns the trust documents of dir whose store is db.
func newTrustDocs(dir string, db store.Meta) trustDocs {
	if !usesDatabase(dir) {
		db = nil
	}
	return trustDocs{dir: dir, meta: db}
}

// read returns the document named name; found false if there is none.
func (d trustDocs) read(name string) (b []byte, found bool, err error) {
	if d.meta != nil {
		b, err := d.meta.GetMeta(trustMetaPrefix + name)
		if err == nil {
			return b, true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, false, fmt.Errorf("read %s: %w", name, err)
		}
	}
	b, err = os.ReadFile(d.file(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", name, err)
	}
	return b, true, nil
}

// write replaces the document named name: in the database, or a file
// (0600, written beside it and renamed into place, its directory 0700).
func (d trustDocs) write(name string, b []byte) error {
	if d.meta != nil {
		return d.meta.PutMeta(trustMetaPrefix+name, b)
	}
	p := d.file(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// file is the path of the file named name.
func (d trustDocs) file(name string) string {
	return filepath.Join(d.dir, filepath.FromSlash(path.Clean(name)))
}

// lockTrust serialises a change of the trust documents: within this relay
// and, on a shared database, across the cluster.
func (s *Server) lockTrust() (unlock func(), err error) {
	s.trustMu.Lock()
	l, ok := s.db.(store.Locker)
	if !ok || s.trust.meta == nil {
		return s.trustMu.Unlock, nil
	}
	release, err := l.Lock(trustLock)
	if err != nil {
		s.trustMu.Unlock()
		return nil, fmt.Errorf("lock the trust documents: %w", err)
	}
	return func() { release(); s.trustMu.Unlock() }, nil
}

// importTrustFiles copies into a shared database every trust file of the
// data directory (written before the documents moved there, or by an
// older relay) whose name the database does not hold yet. It is
// idempotent and runs at start; a bbolt relay has nothing to import.
func (s *Server) importTrustFiles() error {
	if s.trust.meta == nil {
		return nil
	}
	names, err := localTrustFiles(s.cfg.DataDir)
	if err != nil || len(names) == 0 {
		return err
	}
	unlock, err := s.lockTrust()
	if err != nil {
		return err
	}
	defer unlock()
	for _, name := range names {
		if _, err := s.trust.meta.GetMeta(trustMetaPrefix + name); !errors.Is(err, store.ErrNotFound) {
			if err != nil {
				return fmt.Errorf("import %s: %w", name, err)
			}
			continue
		}
		b, err := os.ReadFile(s.trust.file(name))
		if err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
		if err := s.trust.meta.PutMeta(trustMetaPrefix+name, b); err != nil {
			return fmt.Errorf("import %s: %w", name, err)
		}
		s.log.Info("imported a trust file into the database", "file", name)
	}
	return nil
}

// localTrustFiles lists the trust files dir holds.
func localTrustFiles(dir string) ([]string, error) {
	var names []string
	for _, name := range trustFileNames {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			names = append(names, name)
		}
	}
	ents, err := os.ReadDir(policyArchiveDir(dir))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range ents {
		if name := "trust-policies/" + e.Name(); e.Type().IsRegular() && policyName.MatchString(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}
