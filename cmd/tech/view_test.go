package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCheckPath(t *testing.T) {
	cases := []struct {
		path, err string
	}{
		{"auto", ""},
		{"relay", ""},
		{"direct", "direct path not available yet"},
		{"", "--path must be auto, relay or direct"},
		{"p2p\x1b[2J", `--path must be auto, relay or direct, not "p2p"`},
	}
	for _, c := range cases {
		err := checkPath(c.path)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("checkPath(%q) = %v, want %q", c.path, err, c.err)
		}
	}
}

// TestOpenBrowser: $BROWSER's first command that starts gets the address,
// in place of %s or appended.
func TestOpenBrowser(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "got")
	script := filepath.Join(dir, "browser")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s|' \"$@\" > "+out+".tmp && mv "+out+".tmp "+out+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ env, want string }{
		{dir + "/missing:" + script, "http://127.0.0.1:1/t/|"},
		{script + " --new-window %s", "--new-window|http://127.0.0.1:1/t/|"},
	}
	for _, c := range cases {
		os.Remove(out)
		t.Setenv("BROWSER", c.env)
		if err := openBrowser("http://127.0.0.1:1/t/"); err != nil {
			t.Fatalf("BROWSER=%q: %v", c.env, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			b, err := os.ReadFile(out)
			if err == nil {
				if string(b) != c.want {
					t.Fatalf("BROWSER=%q: got %q, want %q", c.env, b, c.want)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("BROWSER=%q: the browser command did not run", c.env)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
