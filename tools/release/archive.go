package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"time"
)

// entry is one file in an archive.
type entry struct {
	name string // slash-separated, inside the archive
	mode os.FileMode
	data []byte
}

// archive writes DIST/tether_VERSION_OS_ARCH.tar.gz (.zip for windows)
// from the programs in dir, and returns its file name.
func (o *options) archive(dir, goos, arch string) (string, error) {
	prefix := fmt.Sprintf("tether_%s_%s_%s", o.version, goos, arch)
	entries, err := o.archiveEntries(dir, goos, prefix)
	if err != nil {
		return "", err
	}
	name := prefix + ".tar.gz"
	write := writeTarGz
	if goos == "windows" {
		name, write = prefix+".zip", writeZip
	}
	if err := writeFile(filepath.Join(o.dist, name), func(w io.Writer) error { return write(w, entries, o.date) }); err != nil {
		return "", fmt.Errorf("archive %s: %w", name, err)
	}
	fmt.Fprintf(o.log, "wrote %s\n", name)
	return name, nil
}

// archiveEntries lists what one platform's archive holds: its programs,
// README and docs, third-party notices, man pages and completions of the
// programs it has, and on linux the systemd units.
func (o *options) archiveEntries(dir, goos, prefix string) ([]entry, error) {
	var entries, binaries []entry
	var paths []string
	for _, p := range programs {
		file := filepath.Join(dir, exe(p, goos))
		data, err := os.ReadFile(file)
		if os.IsNotExist(err) && p == "agent" {
			continue // the agent does not build for every platform
		} else if err != nil {
			return nil, err
		}
		binaries = append(binaries, entry{path.Join(prefix, exe(p, goos)), 0o755, data})
		paths = append(paths, file)
		pages, err := o.manPages(p)
		if err != nil {
			return nil, err
		}
		for _, page := range pages {
			if entries, err = appendFile(entries, page, path.Join(prefix, "man", "man1", filepath.Base(page))); err != nil {
				return nil, err
			}
		}
		for _, c := range completions {
			if entries, err = appendFile(entries, filepath.Join(o.share, "completions", c.shell, c.file(p)),
				path.Join(prefix, "completions", c.shell, c.file(p))); err != nil {
				return nil, err
			}
		}
	}
	entries = append(entries, binaries...)
	docs := []string{"README.md", "docs/cli.md", "docs/operations.md"}
	if goos == "linux" {
		docs = append(docs, "packaging/systemd/tether-relay.service", "packaging/systemd/tether-agent.service", "packaging/default/tether-relay")
	}
	var err error
	for _, d := range docs {
		if entries, err = appendFile(entries, filepath.Join(o.root, filepath.FromSlash(d)), path.Join(prefix, d)); err != nil {
			return nil, err
		}
	}
	text, err := notices(paths)
	if err != nil {
		return nil, err
	}
	entries = append(entries, entry{path.Join(prefix, "THIRD_PARTY_NOTICES"), 0o644, text})
	sort.Slice(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	return entries, nil
}

// appendFile reads src into an entry named name (mode 0644).
func appendFile(entries []entry, src, name string) ([]entry, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, err
	}
	return append(entries, entry{name, 0o644, data}), nil
}

// writeTarGz writes a gzip-compressed tar of entries, every file owned by
// root and dated mtime, so that the same inputs give the same bytes.
func writeTarGz(w io.Writer, entries []entry, mtime time.Time) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	gz.ModTime = mtime
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{
			Typeflag: tar.TypeReg, Name: e.name, Mode: int64(e.mode.Perm()), Size: int64(len(e.data)),
			ModTime: mtime, Uname: "root", Gname: "root", Format: tar.FormatPAX,
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

// writeZip writes a zip of entries dated mtime.
func writeZip(w io.Writer, entries []entry, mtime time.Time) error {
	zw := zip.NewWriter(w)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: mtime}
		hdr.SetMode(e.mode)
		f, err := zw.CreateHeader(hdr)
		if err != nil {
			return err
		}
		if _, err := f.Write(e.data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// writeFile writes path through fill, replacing it only when fill
// succeeds.
func writeFile(path string, fill func(io.Writer) error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := fill(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
