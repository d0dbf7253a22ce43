package tech

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/ratelimit"
)

// TestDesktopInputChecks: Input refuses what the device would refuse (and
// what would break the session) before sealing anything.
func TestDesktopInputChecks(t *testing.T) {
	sent := 0
	d := testStream(&drawAll{}, &sent)
	d.bucket = ratelimit.NewBucket(InputRate, InputBurst)
	d.w, d.h = 100, 50
	tests := []struct {
		ev   protocol.ScreenInput
		want string
	}{
		{protocol.ScreenInput{Kind: protocol.InputPointer, X: 99, Y: 49, Buttons: 7}, ""},
		{protocol.ScreenInput{Kind: protocol.InputPointer, X: 100, Y: 0}, "outside the 100x50 screen"},
		{protocol.ScreenInput{Kind: protocol.InputPointer, X: -1, Y: 0}, "outside the screen"},
		{protocol.ScreenInput{Kind: protocol.InputPointer, X: 1, Y: 1, Buttons: 8}, "invalid input event"},
		{protocol.ScreenInput{Kind: protocol.InputKey, Keysym: 0xff0d, Down: true}, ""},
		{protocol.ScreenInput{Kind: protocol.InputKey, Keysym: 0x20000000}, "invalid input event"},
		{protocol.ScreenInput{Kind: protocol.InputWheel, DY: -3}, ""},
		{protocol.ScreenInput{Kind: protocol.InputWheel, DX: 11}, "beyond ±10"},
		{protocol.ScreenInput{Kind: 9}, "invalid input event"},
	}
	for _, tc := range tests {
		before := sent
		err := d.Input(tc.ev)
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.ev, err, tc.want)
		}
		if (sent > before) != (tc.want == "") {
			t.Errorf("%+v: sent %v", tc.ev, sent > before)
		}
	}
}

// TestDesktopInputRate: events beyond the burst are refused with
// ErrInputRate and not sent.
func TestDesktopInputRate(t *testing.T) {
	sent := 0
	d := testStream(&drawAll{}, &sent)
	d.bucket = ratelimit.NewBucket(1, 5)
	now := time.Unix(0, 0)
	d.now = func() time.Time { return now }
	ev := protocol.ScreenInput{Kind: protocol.InputKey, Keysym: 'a', Down: true}
	for i := 0; i < 5; i++ {
		if err := d.Input(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Input(ev); !errors.Is(err, ErrInputRate) || sent != 5 {
		t.Fatalf("sixth event: %v, %d sent", err, sent)
	}
}
