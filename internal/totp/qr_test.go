package totp

import (
	"strings"
	"testing"

	"github.com/boombuler/barcode/qr"
)

// TestQRRoundTrip decodes the half blocks back into modules and compares
// them with the encoder's matrix.
func TestQRRoundTrip(t *testing.T) {
	u, _, err := NewSecret("alice@clinic.example")
	if err != nil {
		t.Fatal(err)
	}
	s, err := QR(u)
	if err != nil {
		t.Fatal(err)
	}
	code, err := qr.Encode(u, qr.M, qr.Auto)
	if err != nil {
		t.Fatal(err)
	}
	n := code.Bounds().Dx()
	size := n + 2*quietZone
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if got, want := len(lines), (size+1)/2; got != want {
		t.Fatalf("got %d lines, want %d", got, want)
	}
	for y := 0; y < size; y++ {
		row := []rune(lines[y/2])
		if len(row) != size {
			t.Fatalf("line %d: got %d cells, want %d", y/2, len(row), size)
		}
		for x := 0; x < size; x++ {
			c := row[x]
			lit := c == '█' || (y%2 == 0 && c == '▀') || (y%2 == 1 && c == '▄')
			mx, my := x-quietZone, y-quietZone
			want := mx < 0 || my < 0 || mx >= n || my >= n || !dark(code.At(mx, my))
			if lit != want {
				t.Fatalf("module (%d,%d): got light=%v, want %v", mx, my, lit, want)
			}
		}
	}
}

func TestQRTooLong(t *testing.T) {
	if _, err := QR(strings.Repeat("x", 5000)); err == nil {
		t.Error("QR of 5000 bytes: got nil error, want one")
	}
}
