package backup

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"
)

// Sink receives the entries of an archive as Read checks them.
type Sink interface {
	// Dir is called for a directory entry.
	Dir(name string) error
	// File is called for a regular file with its mode (at most 0644) and
	// contents; what File leaves unread, Read reads to check the hash.
	File(name string, mode fs.FileMode, r io.Reader) error
}

// Read reads and checks an archive from r, handing each entry to sink,
// and returns its manifest. Any error about the archive itself wraps
// ErrInvalid; an error from sink is returned as it is. Whatever the sink
// did with the entries before an error is the caller's to undo.
func Read(r io.Reader, sink Sink) (*Manifest, error) {
	return ReadKind(r, sink, Backup)
}

// ReadKind is Read for an archive of kind k.
func ReadKind(r io.Reader, sink Sink, k Kind) (*Manifest, error) {
	rd := &reader{tr: tar.NewReader(r), sink: sink, kinds: map[string]byte{}, kind: k}
	for {
		hdr, err := rd.tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, invalid("the archive ends before its manifest (cut short?)")
		}
		if err != nil {
			return nil, invalid("%v", err)
		}
		if len(rd.kinds) >= MaxEntries {
			return nil, invalid("more than %d entries", MaxEntries)
		}
		if hdr.Name == k.Manifest && hdr.Typeflag == tar.TypeReg {
			return rd.manifest(hdr)
		}
		if err := rd.entry(hdr); err != nil {
			return nil, err
		}
	}
}

// reader is the state of one Read.
type reader struct {
	tr    *tar.Reader
	sink  Sink
	kinds map[string]byte // name → tar.TypeDir or tar.TypeReg
	files []File
	kind  Kind
}

// entry checks and hands on one entry that is not the manifest.
func (rd *reader) entry(hdr *tar.Header) error {
	name := hdr.Name
	switch hdr.Typeflag {
	case tar.TypeDir:
		name = strings.TrimSuffix(name, "/")
	case tar.TypeReg:
	default:
		return invalid("entry %q is not a directory or regular file (type %q)", hdr.Name, hdr.Typeflag)
	}
	if err := CheckName(name); err != nil {
		return err
	}
	if len(rd.kinds) == 0 && (name != rd.kind.First || hdr.Typeflag != tar.TypeReg) {
		return invalid("the first entry is %q, not %s", hdr.Name, rd.kind.First)
	}
	if err := rd.place(name, hdr.Typeflag); err != nil {
		return err
	}
	if hdr.Typeflag == tar.TypeDir {
		return rd.sink.Dir(name)
	}
	if hdr.Size < 0 {
		return invalid("entry %q has a negative size", name)
	}
	h := sha256.New()
	body := &errReader{r: rd.tr}
	tee := io.TeeReader(body, h)
	if err := rd.sink.File(name, fs.FileMode(hdr.Mode).Perm()&0o644, tee); err != nil {
		if body.err != nil {
			return invalid("entry %q: %v", name, body.err)
		}
		return err
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return invalid("entry %q: %v", name, err)
	}
	rd.files = append(rd.files, File{Name: name, Size: hdr.Size, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

// place records name's kind, refusing a repeated name and a name under a
// regular file.
func (rd *reader) place(name string, kind byte) error {
	if _, dup := rd.kinds[name]; dup || name == rd.kind.Manifest {
		return invalid("entry %q occurs twice", name)
	}
	for p := name; strings.Contains(p, "/"); {
		p = p[:strings.LastIndex(p, "/")]
		if rd.kinds[p] == tar.TypeReg {
			return invalid("entry %q is under the file %q", name, p)
		}
	}
	rd.kinds[name] = kind
	return nil
}

// manifest reads the manifest, checks it against the files read and that
// the archive ends after it.
func (rd *reader) manifest(hdr *tar.Header) (*Manifest, error) {
	if len(rd.files) == 0 {
		return nil, invalid("the manifest comes before %s", rd.kind.First)
	}
	if hdr.Size < 0 || hdr.Size > MaxManifest {
		return nil, invalid("manifest of %d bytes", hdr.Size)
	}
	b, err := io.ReadAll(io.LimitReader(rd.tr, MaxManifest))
	if err != nil {
		return nil, invalid("manifest: %v", err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, invalid("manifest: %v", err)
	}
	switch {
	case m.Format != rd.kind.Format:
		return nil, invalid("manifest format %q, want %q", m.Format, rd.kind.Format)
	case m.Version != Version:
		return nil, invalid("format version %d; this relay reads version %d", m.Version, Version)
	case !slices.Equal(m.Files, rd.files):
		return nil, invalid("the files do not match the manifest (damaged or edited: %s)", firstMismatch(m.Files, rd.files))
	}
	if _, err := rd.tr.Next(); !errors.Is(err, io.EOF) {
		return nil, invalid("entries after the manifest")
	}
	return &m, nil
}

// firstMismatch names the first difference between want and got.
func firstMismatch(want, got []File) string {
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			return want[i].Name + " differs"
		}
	}
	if len(want) > len(got) {
		return want[len(got)].Name + " is missing"
	}
	return got[len(want)].Name + " is not listed"
}

// errReader remembers the first error other than io.EOF its reader gave,
// so that a sink's failure caused by a broken archive is reported as one.
type errReader struct {
	r   io.Reader
	err error
}

func (e *errReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && e.err == nil {
		e.err = err
	}
	return n, err
}
