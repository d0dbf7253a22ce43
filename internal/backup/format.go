package backup

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// Names and limits of the format (see the package documentation).
const (
	// FormatName is Manifest.Format.
	FormatName = "tether-backup"
	// Version is the format version this package writes and reads.
	Version = 1
	// ManifestName is the last entry.
	ManifestName = "tether-backup.json"
	// DatabaseName is the first entry.
	DatabaseName = "relay.db"
	// MaxNameLen bounds an entry's name, in bytes.
	MaxNameLen = 1024
	// MaxDepth bounds how many elements a name has.
	MaxDepth = 16
	// MaxManifest bounds the manifest's size.
	MaxManifest = 64 << 20
	// MaxEntries bounds how many entries an archive has.
	MaxEntries = 1 << 20
)

// Kind names one kind of archive in this layout: its manifest's format
// name and entry name, and the regular file that must come first. Backup
// is the relay backup; other kinds (the cluster bundle) share the layout,
// the checks and the manifest with their own names, so that one kind is
// never read as another.
type Kind struct {
	// Format is Manifest.Format.
	Format string
	// Manifest is the manifest's entry name, the last entry.
	Manifest string
	// First is the entry that must come first.
	First string
}

// Backup is the relay backup archive.
var Backup = Kind{Format: FormatName, Manifest: ManifestName, First: DatabaseName}

// ErrInvalid is wrapped by every error about a malformed archive.
var ErrInvalid = errors.New("not a valid Tether backup")

// Manifest is the archive's last entry.
type Manifest struct {
	// Format is FormatName and Version is Version.
	Format  string `json:"format"`
	Version int    `json:"version"`
	// Created is when the snapshot was taken.
	Created time.Time `json:"created"`
	// Online says whether a serving relay took the snapshot (over its host
	// socket) or the backup read the stopped relay's data directory.
	Online bool `json:"online"`
	// Fingerprint is the relay certificate's pin at the time, if known.
	Fingerprint string `json:"fingerprint,omitempty"`
	// Files lists every regular file of the archive, in archive order.
	Files []File `json:"files"`
}

// File is one regular file of an archive.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// invalid returns an error wrapping ErrInvalid.
func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// CheckName reports whether name may be an entry of an archive.
func CheckName(name string) error {
	switch {
	case name == "" || len(name) > MaxNameLen:
		return invalid("entry name of %d bytes", len(name))
	case strings.HasPrefix(name, "/") || strings.Contains(name, `\`):
		return invalid("entry name %q is not relative", name)
	case path.Clean(name) != name:
		return invalid("entry name %q is not clean", name)
	case strings.Count(name, "/") >= MaxDepth:
		return invalid("entry name %q is nested too deeply", name)
	}
	for _, el := range strings.Split(name, "/") {
		if el == "." || el == ".." {
			return invalid("entry name %q leaves the data directory", name)
		}
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return invalid("entry name %q has a control character", name)
		}
	}
	return nil
}
