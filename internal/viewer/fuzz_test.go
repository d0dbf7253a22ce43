package viewer

import (
	"encoding/json"
	"testing"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
)

// FuzzParsePageMsg: whatever the page sends, parsing never panics, and a
// message it accepts has fields in range and re-encodes to one it accepts.
func FuzzParsePageMsg(f *testing.F) {
	for _, s := range []string{`{"t":"ack","id":4}`, `{"t":"key","key":"a","code":"KeyA","down":true}`,
		`{"t":"ptr","x":10,"y":20,"b":1}`, `{"t":"wheel","dx":0,"dy":-3}`, `{"t":"control"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parsePageMsg(b)
		if err != nil {
			return
		}
		if m.X < 0 || m.Y < 0 || m.B < 0 || m.B > 31 || abs(m.DX) > protocol.MaxWheel || abs(m.DY) > protocol.MaxWheel ||
			len(m.Key) > maxKeyLen || len(m.Code) > maxCodeLen {
			t.Fatalf("accepted %q as %+v", b, m)
		}
		again, _ := json.Marshal(m)
		if len(again) <= maxPageMsg {
			if _, err := parsePageMsg(again); err != nil {
				t.Fatalf("re-encoded %+v refused: %v", m, err)
			}
		}
		if k, ok := Keysym(m.Key, m.Code); ok && (k == 0 || k > protocol.MaxKeysym) {
			t.Fatalf("keysym %#x for %q %q", k, m.Key, m.Code)
		}
	})
}

// BenchmarkAppendUpdateFull: a whole 1920×1080 frame as RGBA, what a page
// attaching (or a full refresh) costs tech.
func BenchmarkAppendUpdateFull(b *testing.B) {
	f := testFrame(1920, 1080)
	buf := make([]byte, 0, 11+8+1920*1080*4)
	b.SetBytes(int64(1920 * 1080 * 4))
	for b.Loop() {
		buf = appendUpdate(buf[:0], 1, f, []screen.Rect{f.Bounds()})
	}
}
