package recordings

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateDesktopKAT = flag.Bool("update-desktop-kat", false, "regenerate testdata/desktop-kat and the FuzzReadStream seeds")

// FuzzReadStream feeds arbitrary plaintext to the stream reader: it either
// reads it or refuses it as invalid asciicast or desktop stream, never
// anything else, and never hands out a record its kind's rules refuse.
func FuzzReadStream(f *testing.F) {
	f.Fuzz(func(t *testing.T, pt []byte) {
		_, _, err := ReadStream(bytes.NewReader(pt), StreamVisitor{Record: func(r Record) error {
			if err := checkRecord(r.Kind, r.Data); err != nil {
				t.Fatalf("delivered a bad record: %v", err)
			}
			return nil
		}})
		if err != nil && !errors.Is(err, ErrInvalidCast) && !errors.Is(err, ErrInvalidDesktop) {
			t.Fatalf("got unexpected error %v", err)
		}
	})
}

// writeDesktopSeeds writes FuzzReadStream's seed corpus from a sample
// desktop stream: whole, cut at interesting points, and with bad records.
func writeDesktopSeeds(t *testing.T, pt []byte) {
	sw := bytes.Index(pt, []byte(DesktopSwitch)) + len(DesktopSwitch) + 1
	seeds := map[string][]byte{
		"desktop":       pt,
		"switch-only":   pt[:sw],
		"cut-in-record": pt[:sw+20],
		"bad-kind":      append(bytes.Clone(pt[:sw]), 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 'x'),
		"huge-length":   append(bytes.Clone(pt[:sw]), 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff),
		"terminal":      pt[:bytes.Index(pt, []byte(DesktopSwitch))],
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzReadStream")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range seeds {
		writeTestdata(t, filepath.Join(dir, name), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)))
	}
}

func writeTestdata(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
