package replay

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var updateSeeds = flag.Bool("update-seeds", false, "regenerate FuzzPlayer's seed corpus")

// FuzzPlayer loads an arbitrary plaintext and plays it forward and back:
// whatever the records hold, the player neither panics nor hands out a
// framebuffer that does not match its size.
func FuzzPlayer(f *testing.F) {
	f.Fuzz(func(t *testing.T, pt []byte) {
		rec, err := Load(bytes.NewReader(pt), 64<<20)
		if err != nil || !rec.Desktop {
			return
		}
		p := rec.NewPlayer()
		defer p.Close()
		for _, at := range []time.Duration{rec.Duration, 0, rec.Duration / 2, rec.Duration} {
			p.AdvanceTo(at)
			if fb := p.Frame(); fb != nil && fb.Validate() != nil {
				t.Fatalf("framebuffer invalid: %v", fb.Validate())
			}
			p.Take()
		}
	})
}

// TestWriteSeeds writes FuzzPlayer's seeds from the test scenario: whole,
// and cut at two thirds and at a fifth.
func TestWriteSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to regenerate the seed corpus")
	}
	pt := record(t).pt
	dir := filepath.Join("testdata", "fuzz", "FuzzPlayer")
	os.MkdirAll(dir, 0o755)
	for name, b := range map[string][]byte{"scenario": pt, "cut": pt[:len(pt)*2/3], "head": pt[:len(pt)/5]} {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
