package tilecodec

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzDecoderApply seeds")

// TestWriteFuzzSeeds regenerates the committed fuzz seeds with -update-seeds:
// encoder output for every tile kind, multi-chunk and resized updates.
func TestWriteFuzzSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite the seed corpus")
	}
	var seeds [][]byte
	e := NewEncoder(Options{Lossless: true})
	var chunks [][]byte
	for _, f := range katFrames(t) {
		chunks = append(chunks, encode(t, e, f, false).Chunks...)
	}
	seeds = append(seeds, joinChunks(chunks...))
	pf := newFrame(t, 200, 100)
	photo(pf, pf.Bounds(), 1)
	seeds = append(seeds, joinChunks(encode(t, NewEncoder(Options{}), pf, false).Chunks...))
	tf := newFrame(t, 500, 300)
	newText(3, 60, 18).draw(tf)
	tu := encode(t, NewEncoder(Options{}), tf, false)
	seeds = append(seeds, joinChunks(tu.Chunks...))
	nf := newFrame(t, 320, 256) // 8-bit palette tiles: raw budget over one chunk, small compressed
	for y := 0; y < nf.Height; y++ {
		for x := 0; x < nf.Width; x++ {
			setPix(nf, x, y, uint32((x+y)%20)*0x0a0a0a)
		}
	}
	nu := encode(t, NewEncoder(Options{}), nf, false)
	if len(nu.Chunks) < 2 {
		t.Fatal("multi-chunk seed is one chunk")
	}
	seeds = append(seeds, joinChunks(nu.Chunks...))
	dir := filepath.Join("testdata", "fuzz", "FuzzDecoderApply")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range seeds {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
