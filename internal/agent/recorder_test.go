package agent

import (
	"testing"
	"time"
)

// TestFlushEveryEnv: the test-only knob can shorten the flush interval,
// never lengthen it or make it absurdly short.
func TestFlushEveryEnv(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want time.Duration
	}{
		{"", defaultFlushEvery},
		{"100ms", 100 * time.Millisecond},
		{"10ms", 10 * time.Millisecond},
		{"1ms", defaultFlushEvery},
		{"2s", defaultFlushEvery},
		{"1h", defaultFlushEvery},
		{"-1s", defaultFlushEvery},
		{"soon", defaultFlushEvery},
	} {
		t.Setenv(flushEveryEnv, tc.env)
		if got := flushEvery(); got != tc.want {
			t.Errorf("%s=%q: flush every %v, want %v", flushEveryEnv, tc.env, got, tc.want)
		}
	}
}
