package transport

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"syscall"
	"testing"
)

// TestDialErrorConnectionEnds: a connection the relay closed without
// answering says so; other failures are "cannot reach relay"; the cause
// stays reachable with errors.Is.
func TestDialErrorConnectionEnds(t *testing.T) {
	const relay = "https://relay.example:8443"
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"EOF", fmt.Errorf("Post %q: %w", relay+"/v1/login", io.EOF), "relay " + relay + " closed the connection without answering"},
		{"unexpected EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), "closed the connection without answering"},
		{"refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), "cannot reach relay " + relay},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), "cannot reach relay " + relay},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := DialError(relay, nil, tc.err)
			if !strings.Contains(got.Error(), tc.want) {
				t.Fatalf("got %q, want it to contain %q", got, tc.want)
			}
			if !errors.Is(got, errors.Unwrap(tc.err)) {
				t.Fatalf("%v does not wrap %v", got, errors.Unwrap(tc.err))
			}
		})
	}
}
