package logging

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNewFormats(t *testing.T) {
	tests := []struct {
		format, level string
		wantErr       string
		check         func(t *testing.T, out string)
	}{
		{"json", "info", "", func(t *testing.T, out string) {
			var m map[string]any
			if err := json.Unmarshal([]byte(out), &m); err != nil || m["msg"] != "hello" || m["k"] != "v" {
				t.Errorf("not one JSON record: %q (%v)", out, err)
			}
		}},
		{"text", "info", "", func(t *testing.T, out string) {
			if !strings.Contains(out, "msg=hello k=v") {
				t.Errorf("text record: %q", out)
			}
		}},
		{"", "info", "", func(t *testing.T, out string) {
			if !strings.Contains(out, "msg=hello") {
				t.Errorf("default is text: %q", out)
			}
		}},
		{"text", "warn", "", func(t *testing.T, out string) {
			if out != "" {
				t.Errorf("info logged at warn: %q", out)
			}
		}},
		{"xml", "info", `unknown log format "xml"`, nil},
		{"json", "loud", `unknown log level "loud"`, nil},
	}
	for _, tc := range tests {
		var b bytes.Buffer
		l, err := New(&b, tc.format, tc.level)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s/%s: error %v, want %q", tc.format, tc.level, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		l.Info("hello", "k", "v")
		tc.check(t, b.String())
	}
}

func TestFileRotatesAndIsPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.log")
	if err := os.WriteFile(path, []byte("old line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := OpenFile(path, 64)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("existing log file left mode %v", st.Mode().Perm())
	}
	line := []byte(strings.Repeat("x", 39) + "\n") // 40 bytes
	for range 5 {
		if _, err := f.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	cur, _ := os.ReadFile(path)
	old, _ := os.ReadFile(path + ".1")
	if len(cur) > 64 || len(old) > 64 || len(cur) == 0 || len(old) == 0 {
		t.Errorf("sizes after rotation: current %d, rotated %d (limit 64)", len(cur), len(old))
	}
	if bytes.Contains(cur, []byte("old line")) || bytes.Contains(old, []byte("old line")) {
		t.Errorf("the oldest content survived two rotations")
	}
	if _, err := f.Write(line); err == nil {
		t.Error("write after Close succeeded")
	}
}

func TestFileRefusesDirectory(t *testing.T) {
	if _, err := OpenFile(t.TempDir(), 0); err == nil {
		t.Fatal("opened a directory as a log file")
	}
}
