package backup

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"time"
)

// Writer writes an archive: the database first (File with DatabaseName),
// then directories and files, then Close writes the manifest.
type Writer struct {
	tw    *tar.Writer
	files []File
	seen  map[string]bool
	now   time.Time
	kind  Kind
}

// NewWriter returns a Writer writing to w; entries are stamped with now.
func NewWriter(w io.Writer, now time.Time) *Writer {
	return NewKindWriter(w, now, Backup)
}

// NewKindWriter is NewWriter for an archive of kind k.
func NewKindWriter(w io.Writer, now time.Time, k Kind) *Writer {
	return &Writer{tw: tar.NewWriter(w), seen: map[string]bool{}, now: now, kind: k}
}

// check refuses a name the format does not allow, a repeated one, and
// anything before the database.
func (w *Writer) check(name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if name == w.kind.Manifest || w.seen[name] {
		return fmt.Errorf("backup: entry %q twice or reserved", name)
	}
	if len(w.seen) == 0 && name != w.kind.First {
		return fmt.Errorf("backup: %s comes first, not %q", w.kind.First, name)
	}
	w.seen[name] = true
	return nil
}

// Dir adds a directory.
func (w *Writer) Dir(name string) error {
	if err := w.check(name); err != nil {
		return err
	}
	return w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: 0o700, ModTime: w.now, Format: tar.FormatPAX})
}

// File adds a regular file of exactly size bytes read from r, with mode
// (at most 0644 is kept). A reader that ends early, or has more, is an
// error: the archive is then unusable.
func (w *Writer) File(name string, mode fs.FileMode, size int64, r io.Reader) error {
	if err := w.check(name); err != nil {
		return err
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: int64(mode.Perm() & 0o644), ModTime: w.now, Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(w.tw, io.TeeReader(io.LimitReader(r, size), h))
	if err != nil {
		return fmt.Errorf("backup: copy %s: %w", name, err)
	}
	if n != size {
		return fmt.Errorf("backup: %s ended after %d of %d bytes", name, n, size)
	}
	w.files = append(w.files, File{Name: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

// Close writes the manifest m with the files written so far and ends the
// archive; it does not close the underlying writer.
func (w *Writer) Close(m Manifest) error {
	if len(w.files) == 0 || w.files[0].Name != w.kind.First {
		return fmt.Errorf("backup: no %s in the archive", w.kind.First)
	}
	m.Format, m.Version, m.Files = w.kind.Format, Version, w.files
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	hdr := &tar.Header{Typeflag: tar.TypeReg, Name: w.kind.Manifest, Size: int64(len(b)), Mode: 0o600, ModTime: w.now, Format: tar.FormatPAX}
	if err := w.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if _, err := w.tw.Write(b); err != nil {
		return err
	}
	return w.tw.Close()
}
