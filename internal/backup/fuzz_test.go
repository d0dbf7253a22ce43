package backup

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRead: any input is either refused with an error wrapping
// ErrInvalid or read whole with a manifest that lists the database first;
// extracting it writes only below the root.
func FuzzRead(f *testing.F) {
	f.Add(sample(f))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Read(bytes.NewReader(data), discard{})
		if err != nil {
			if !errorsIsInvalid(err) {
				t.Fatalf("error not wrapping ErrInvalid: %v", err)
			}
			return
		}
		if len(m.Files) == 0 || m.Files[0].Name != DatabaseName {
			t.Fatalf("accepted a manifest without the database first: %+v", m)
		}
		parent := t.TempDir()
		root := filepath.Join(parent, "root")
		if err := os.Mkdir(root, 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := Extract(bytes.NewReader(data), root); err != nil {
			t.Fatalf("Read accepted what Extract refused: %v", err)
		}
		if ents, _ := os.ReadDir(parent); len(ents) != 1 {
			t.Fatalf("wrote outside the root: %v", ents)
		}
	})
}
