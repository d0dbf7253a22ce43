package tech

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/tether-support/tether/recordings"
)

// TestDesktopGuard: the guard passes an asciicast stream whole and stops a
// desktop stream at its switch line, however the reads split it, having
// passed every asciicast byte before it.
func TestDesktopGuard(t *testing.T) {
	cast := `{"version": 2, "width": 80, "height": 24}` + "\n" + `[0.5, "o", "tether-desktop/1 \n"]` + "\n"
	desk := cast + recordings.DesktopSwitch + "\n\x05\x00binary"
	for _, tc := range []struct {
		name    string
		in      string
		want    string
		desktop bool
	}{
		{"terminal", cast, cast, false},
		{"desktop", desk, cast, true},
	} {
		for _, split := range []func(io.Reader) io.Reader{
			func(r io.Reader) io.Reader { return r },
			iotest.OneByteReader,
			iotest.HalfReader,
		} {
			var out bytes.Buffer
			_, err := io.Copy(&out, &desktopGuard{r: split(strings.NewReader(tc.in))})
			if got := errors.Is(err, errDesktopRecording); got != tc.desktop || (err != nil && !got) {
				t.Fatalf("%s: err %v", tc.name, err)
			}
			if out.String() != tc.want {
				t.Fatalf("%s: passed %q, want %q", tc.name, out.String(), tc.want)
			}
		}
	}
}
