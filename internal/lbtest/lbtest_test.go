package lbtest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// backend is a TCP server that greets each connection with its one-byte
// name and then echoes everything back until the client half-closes.
func backend(t *testing.T, name byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := c.Write([]byte{name}); err != nil {
					return
				}
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// refusing returns an address on which nothing listens.
func refusing(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// greet connects through l and returns the connection and the name of the
// backend that answered, or 0 when the LB closed the connection.
func greet(t *testing.T, l *LB) (net.Conn, byte) {
	t.Helper()
	c, err := net.Dial("tcp", l.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return c, 0
		}
		t.Fatalf("read through the LB: %v", err)
	}
	c.SetReadDeadline(time.Time{})
	return c, b[0]
}

func newLB(t *testing.T, backends []string, opts Options) *LB {
	t.Helper()
	l, err := New(backends, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestRouting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		backends func(t *testing.T) []string
		pin      int // -1: round robin
		want     string
		skipped  bool
	}{
		{"round robin", func(t *testing.T) []string { return []string{backend(t, 'a'), backend(t, 'b'), backend(t, 'c')} }, -1, "abcabc", false},
		{"refusing backend skipped", func(t *testing.T) []string { return []string{backend(t, 'a'), refusing(t), backend(t, 'c')} }, -1, "accacc", true},
		{"pinned", func(t *testing.T) []string { return []string{backend(t, 'a'), backend(t, 'b'), backend(t, 'c')} }, 1, "bbbbbb", false},
		{"pinned to a refusing backend", func(t *testing.T) []string { return []string{backend(t, 'a'), refusing(t)} }, 1, "\x00\x00\x00", true},
		{"every backend refuses", func(t *testing.T) []string { return []string{refusing(t), refusing(t)} }, -1, "\x00\x00", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := newLB(t, tc.backends(t), Options{})
			if tc.pin >= 0 {
				if err := l.Pin(tc.pin); err != nil {
					t.Fatal(err)
				}
			}
			var got []byte
			for range len(tc.want) {
				c, name := greet(t, l)
				got = append(got, name)
				c.Close()
			}
			if string(got) != tc.want {
				t.Fatalf("backends answering: %q, want %q", got, tc.want)
			}
			if s := l.Stats(); (s.Skipped > 0) != tc.skipped {
				t.Fatalf("skipped %d refusals, want some: %v", s.Skipped, tc.skipped)
			}
		})
	}
}

func TestPinAndUnpin(t *testing.T) {
	t.Parallel()
	l := newLB(t, []string{backend(t, 'a'), backend(t, 'b')}, Options{})
	if err := l.Pin(2); !errors.Is(err, ErrNoBackend) {
		t.Fatalf("Pin(2) of two backends: %v", err)
	}
	if err := l.Pin(-1); !errors.Is(err, ErrNoBackend) {
		t.Fatalf("Pin(-1): %v", err)
	}
	l.Pin(1)
	held, name := greet(t, l)
	if name != 'b' {
		t.Fatalf("pinned to b, got %q", name)
	}
	l.Unpin()
	var got []byte
	for range 2 {
		c, n := greet(t, l)
		got = append(got, n)
		c.Close()
	}
	if string(got) != "ab" && string(got) != "ba" {
		t.Fatalf("after Unpin: %q, want both backends", got)
	}
	// The connection made while pinned stays where it was.
	echo(t, held, []byte("still here"))
	s := l.Stats()
	if s.Forwarded[0] != 1 || s.Forwarded[1] != 2 {
		t.Fatalf("forwarded %v, want [1 2]", s.Forwarded)
	}
}

// echo sends msg through c and checks it comes back.
func echo(t *testing.T, c net.Conn, msg []byte) {
	t.Helper()
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("echo differs")
	}
}

// TestHalfClose sends a large payload and half-closes: the backend's whole
// echo still arrives, then EOF.
func TestHalfClose(t *testing.T) {
	t.Parallel()
	l := newLB(t, []string{backend(t, 'a')}, Options{})
	c, _ := greet(t, l)
	msg := make([]byte, 4<<20)
	rand.Read(msg)
	go func() {
		c.Write(msg)
		c.(*net.TCPConn).CloseWrite()
	}()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatalf("echo of %d bytes came back as %d bytes, or differs", len(msg), len(got))
	}
	eventually(t, func() bool { return l.Stats().Open[0] == 0 })
}

// TestMaxConns: a client beyond the bound is closed at once; a slot freed
// is usable again.
func TestMaxConns(t *testing.T) {
	t.Parallel()
	l := newLB(t, []string{backend(t, 'a')}, Options{MaxConns: 2})
	c1, n1 := greet(t, l)
	_, n2 := greet(t, l)
	if n1 != 'a' || n2 != 'a' {
		t.Fatalf("first two clients: %q %q", n1, n2)
	}
	if _, n := greet(t, l); n != 0 {
		t.Fatalf("a third client beyond MaxConns 2 was forwarded")
	}
	c1.Close()
	eventually(t, func() bool {
		c, n := greet(t, l)
		c.Close()
		return n == 'a'
	})
}

// TestBackendDies: when a backend goes away, its forwarded clients see
// the end, and new clients reach the others.
func TestBackendDies(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Write([]byte{'x'})
			accepted <- c
		}
	}()
	l := newLB(t, []string{ln.Addr().String(), backend(t, 'b')}, Options{})
	c, name := greet(t, l)
	if name != 'x' {
		t.Fatalf("first client reached %q", name)
	}
	ln.Close()
	(<-accepted).Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("client of a dead backend: %v, want EOF", err)
	}
	for range 3 {
		if _, n := greet(t, l); n != 'b' {
			t.Fatalf("client after the backend died reached %q", n)
		}
	}
}

// TestClose ends the forwarded connections and returns once every
// goroutine is done; the listener is gone.
func TestClose(t *testing.T) {
	t.Parallel()
	l, err := New([]string{backend(t, 'a')}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := greet(t, l)
	done := make(chan error, 1)
	go func() { done <- l.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("client after Close: %v, want EOF", err)
	}
	if _, err := net.Dial("tcp", l.Addr()); err == nil {
		t.Fatal("the LB still accepts after Close")
	}
}

func TestNoBackends(t *testing.T) {
	if _, err := New(nil, Options{}); err == nil {
		t.Fatal("an LB without backends was made")
	}
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
