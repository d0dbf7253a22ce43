package tech

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/transport"
)

func TestLostReasonHidesLibraryWording(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("failed to get reader: %w", io.EOF), "connection to the relay lost"},
		{fmt.Errorf("failed to get reader: %w", &net.OpError{Op: "read", Err: fmt.Errorf("connection reset by peer")}), "connection to the relay lost"},
		{transport.ErrClosed, "connection to the relay lost"},
		{&transport.RemoteError{Message: "no\x1b[2J such session"}, "relay: no such session"},
		{fmt.Errorf("end-to-end channel: %w", e2e.ErrReplayed), "end-to-end channel: e2e: replayed frame"},
		{context.Canceled, "context canceled"},
	}
	for _, tt := range tests {
		if got := lostReason(tt.err); got != tt.want {
			t.Errorf("lostReason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
