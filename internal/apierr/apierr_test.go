package apierr

import (
	"strconv"
	"testing"
	"time"
)

func TestTooManySaysWhen(t *testing.T) {
	for _, tc := range []struct {
		wait time.Duration
		secs int
	}{{0, 1}, {-time.Second, 1}, {1500 * time.Millisecond, 2}, {10 * time.Minute, 600}} {
		e := TooMany(tc.wait, "too many attempts for this account")
		if e.Status != 429 || e.RetryAfter != tc.secs || e.Msg != "too many attempts for this account, retry in "+strconv.Itoa(tc.secs)+" s" {
			t.Errorf("TooMany(%v) = %d %q retry %d", tc.wait, e.Status, e.Msg, e.RetryAfter)
		}
	}
}
