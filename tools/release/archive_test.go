package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"time"
)

var testEntries = []entry{
	{"tether_1_linux_amd64/relay", 0o755, []byte("\x7fELF program")},
	{"tether_1_linux_amd64/README.md", 0o644, []byte("# Tether\n")},
}

func TestTarGzIsDeterministicAndReadable(t *testing.T) {
	date := time.Unix(1700000000, 0).UTC()
	var a, b bytes.Buffer
	if err := writeTarGz(&a, testEntries, date); err != nil {
		t.Fatal(err)
	}
	if err := writeTarGz(&b, testEntries, date); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two archives of the same entries differ")
	}
	zr, err := gzip.NewReader(&a)
	if err != nil {
		t.Fatal(err)
	}
	if !zr.ModTime.Equal(date) || zr.Name != "" {
		t.Errorf("gzip header: time %v, name %q", zr.ModTime, zr.Name)
	}
	tr := tar.NewReader(zr)
	for _, want := range testEntries {
		hdr, err := tr.Next()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		if hdr.Name != want.name || hdr.Mode != int64(want.mode) || !hdr.ModTime.Equal(date) ||
			hdr.Uname != "root" || hdr.Uid != 0 || !bytes.Equal(data, want.data) {
			t.Errorf("entry %+v, data %q; want %s mode %o", hdr, data, want.name, want.mode)
		}
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("extra entries: %v", err)
	}
}

func TestZipIsDeterministicAndReadable(t *testing.T) {
	date := time.Unix(1700000000, 0).UTC()
	var a, b bytes.Buffer
	if err := writeZip(&a, testEntries, date); err != nil {
		t.Fatal(err)
	}
	if err := writeZip(&b, testEntries, date); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two zips of the same entries differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(testEntries) {
		t.Fatalf("%d files, want %d", len(zr.File), len(testEntries))
	}
	for i, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if f.Name != testEntries[i].name || f.Mode().Perm() != testEntries[i].mode || !bytes.Equal(data, testEntries[i].data) {
			t.Errorf("file %s mode %v data %q", f.Name, f.Mode(), data)
		}
	}
}

func TestDebVersion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.2.0", "1.2.0"},
		{"v1.2.0", "1.2.0"},
		{"v1.2.0-3-gabc1234-dirty", "1.2.0+3+gabc1234+dirty"},
		{"abc1234", "0~git.abc1234"},
		{"dev", "0~git.dev"},
		{"1.0_rc/1", "1.0+rc+1"},
	}
	for _, tt := range tests {
		if got := debVersion(tt.in); got != tt.want {
			t.Errorf("debVersion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEscapePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"github.com/spf13/cobra", "github.com/spf13/cobra"},
		{"github.com/AlekSi/pointer", "github.com/!alek!si/pointer"},
		{"github.com/Masterminds/semver/v3", "github.com/!masterminds/semver/v3"},
	}
	for _, tt := range tests {
		if got := escapePath(tt.in); got != tt.want {
			t.Errorf("escapePath(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
