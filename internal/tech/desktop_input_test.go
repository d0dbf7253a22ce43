package tech

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// TestDesktopInputChecks: Input refuses what the device would refuse (and
// what would break the session) before sealing anything.
func TestDesktopInputChecks(t *testing.T) {
	sent := 0
	d := testStream(&drawAll{}, &sent)
	d.bucket = newTokenBucket(InputRate, InputBurst)
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

// TestTokenBucket: a burst, then the rate.
func TestTokenBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newTokenBucket(10, 3)
	b.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if !b.take() {
			t.Fatalf("burst token %d refused", i)
		}
	}
	if b.take() {
		t.Fatal("a fourth token at once")
	}
	now = now.Add(100 * time.Millisecond)
	if !b.take() || b.take() {
		t.Fatal("not exactly one token after a tenth of a second at 10 a second")
	}
	now = now.Add(time.Hour)
	n := 0
	for b.take() {
		n++
	}
	if n != 3 {
		t.Fatalf("%d tokens after a long pause, want the burst of 3", n)
	}
}

// TestDesktopInputRate: events beyond the burst are refused with
// ErrInputRate and not sent.
func TestDesktopInputRate(t *testing.T) {
	sent := 0
	d := testStream(&drawAll{}, &sent)
	d.bucket = newTokenBucket(1, 5)
	now := time.Unix(0, 0)
	d.bucket.now = func() time.Time { return now }
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
