package version

import "testing"

func TestString(t *testing.T) {
	v, c := Version, Commit
	t.Cleanup(func() { Version, Commit = v, c })
	tests := []struct{ version, commit, want string }{
		{"dev", "unknown", "tech dev (commit unknown)"},
		{"1.2.0", "0123abcd", "tech 1.2.0 (commit 0123abcd)"},
	}
	for _, tt := range tests {
		Version, Commit = tt.version, tt.commit
		if got := String("tech"); got != tt.want {
			t.Errorf("String = %q, want %q", got, tt.want)
		}
	}
}
