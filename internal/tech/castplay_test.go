package tech

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tether-support/tether/recordings"
)

// TestPlayCast: output events are written in order, input events are not,
// and a cancelled context stops the replay.
func TestPlayCast(t *testing.T) {
	evs := []recordings.CastEvent{{Time: 0, Type: "o", Data: "a"}, {Time: 0.001, Type: "i", Data: "x"},
		{Time: 0.002, Type: "o", Data: "b"}}
	var out strings.Builder
	if err := PlayCast(context.Background(), evs, 100, &out); err != nil || out.String() != "ab" {
		t.Fatalf("played %q, %v; want \"ab\"", out.String(), err)
	}
	if err := PlayCast(context.Background(), evs, 0, &out); err == nil {
		t.Fatal("speed 0 accepted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := PlayCast(ctx, []recordings.CastEvent{{Time: 3600, Type: "o", Data: "late"}}, 1, &out); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled replay: %v", err)
	}
}
