package relay

import (
	"strings"
	"testing"
	"time"
)

// TestStoreTimeouts: zero takes the defaults, a value is kept, and one out
// of range is refused by its flag's name.
func TestStoreTimeouts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		c       Config
		want    [3]time.Duration
		wantErr string
	}{
		{"defaults", Config{}, [3]time.Duration{DefaultStoreTimeout, DefaultStoreConnectTimeout, DefaultStoreRetry}, ""},
		{"set", Config{StoreTimeout: 3 * time.Second, StoreConnectTimeout: time.Second, StoreRetry: 100 * time.Millisecond},
			[3]time.Duration{3 * time.Second, time.Second, 100 * time.Millisecond}, ""},
		{"too short", Config{StoreConnectTimeout: time.Millisecond}, [3]time.Duration{}, "--store-connect-timeout 1ms is out of range"},
		{"too long", Config{StoreRetry: time.Hour}, [3]time.Duration{}, "--store-retry 1h0m0s is out of range"},
		{"negative", Config{StoreTimeout: -time.Second}, [3]time.Duration{}, "--store-timeout -1s is out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.DataDir = "x"
			err := c.Validate()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := [3]time.Duration{c.StoreTimeout, c.StoreConnectTimeout, c.StoreRetry}; got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}
