package pgstore

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/store"
)

// TestConnectTimeout: the configured bound wins, then the URL's
// connect_timeout, then the default, never above the query timeout.
func TestConnectTimeout(t *testing.T) {
	tests := []struct {
		name                       string
		configured, fromURL, query time.Duration
		want                       time.Duration
	}{
		{"default", 0, 0, 10 * time.Second, DefaultConnectTimeout},
		{"from the URL", 0, 7 * time.Second, 10 * time.Second, 7 * time.Second},
		{"configured", time.Second, 7 * time.Second, 10 * time.Second, time.Second},
		{"capped by the query timeout", 30 * time.Second, 0, 3 * time.Second, 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := connectTimeout(tc.configured, tc.fromURL, tc.query); got != tc.want {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestOpenSilentServer: a server that accepts the connection and never
// answers (a hung host) is reported as store.ErrUnavailable once the
// connect timeout passes, not after the query timeout.
func TestOpenSilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	_, err = Open(Config{URL: "postgres://u@" + ln.Addr().String() + "/db?sslmode=disable",
		ConnectTimeout: 50 * time.Millisecond, QueryTimeout: time.Hour})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("open against a silent server: %v, want ErrUnavailable", err)
	}
}
