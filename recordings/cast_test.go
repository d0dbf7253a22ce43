package recordings

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

var castStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func at(ms int) time.Time { return castStart.Add(time.Duration(ms) * time.Millisecond) }

func newTestCast(t *testing.T) (*CastWriter, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	cw, err := NewCastWriter(&buf, CastHeader{Width: 80, Height: 24, Timestamp: castStart.Unix(), Env: map[string]string{"TERM": "xterm"}}, castStart)
	if err != nil {
		t.Fatalf("NewCastWriter: %v", err)
	}
	return cw, &buf
}

func readEvents(t *testing.T, b []byte) (*CastHeader, []CastEvent) {
	t.Helper()
	var evs []CastEvent
	h, err := ReadCastEvents(bytes.NewReader(b), func(e CastEvent) error { evs = append(evs, e); return nil })
	if err != nil {
		t.Fatalf("ReadCastEvents: %v\n%s", err, b)
	}
	return h, evs
}

func TestCastWriterParses(t *testing.T) {
	cw, buf := newTestCast(t)
	steps := []error{
		cw.Output(at(100), []byte("$ ls\r\n")),
		cw.Input(at(200), []byte("q")),
		cw.Resize(at(300), 132, 43),
		cw.Marker(at(400), "step <1> & \"quoted\""),
		cw.Output(at(350), []byte("clock went back")),
		cw.Output(at(500), []byte("\x1b[1mbold\x00\x7f")),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	h, evs := readEvents(t, buf.Bytes())
	if h.Version != 2 || h.Width != 80 || h.Height != 24 || h.Env["TERM"] != "xterm" || h.Timestamp != castStart.Unix() {
		t.Errorf("got header %+v, want version 2, 80x24, TERM=xterm", h)
	}
	want := []CastEvent{
		{0.1, "o", "$ ls\r\n"},
		{0.2, "i", "q"},
		{0.3, "r", "132x43"},
		{0.4, "m", "step <1> & \"quoted\""},
		{0.4, "o", "clock went back"},
		{0.5, "o", "\x1b[1mbold\x00\x7f"},
	}
	if len(evs) != len(want) {
		t.Fatalf("got %d events, want %d", len(evs), len(want))
	}
	for i := range want {
		if evs[i] != want[i] {
			t.Errorf("event %d: got %+v, want %+v", i, evs[i], want[i])
		}
	}
	if _, n, err := ParseCast(bytes.NewReader(buf.Bytes())); err != nil || n != len(want) {
		t.Errorf("ParseCast: got %d, %v; want %d, nil", n, err, len(want))
	}
}

func TestCastWriterUTF8Split(t *testing.T) {
	text := "héllo wörld 😀 — ✓ ok"
	b := []byte(text)
	for split := 0; split <= len(b); split++ {
		for split2 := split; split2 <= len(b); split2++ {
			cw, buf := newTestCast(t)
			for _, part := range [][]byte{b[:split], b[split:split2], b[split2:]} {
				if err := cw.Output(at(1), part); err != nil {
					t.Fatal(err)
				}
			}
			_, evs := readEvents(t, buf.Bytes())
			var got strings.Builder
			for _, e := range evs {
				got.WriteString(e.Data)
			}
			if got.String() != text {
				t.Fatalf("split at %d,%d: got %q, want %q", split, split2, got.String(), text)
			}
		}
	}
}

func TestCastWriterInvalidUTF8(t *testing.T) {
	tests := []struct {
		name  string
		parts []string
		want  string
	}{
		{"lone continuation", []string{"a\x80b"}, "a\uFFFDb"},
		{"bad byte", []string{"\xff"}, "\uFFFD"},
		{"broken sequence", []string{"\xe2\x82", "A"}, "\uFFFD\uFFFDA"},
		{"incomplete at close", []string{"ok\xf0\x9f"}, "ok\uFFFD\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cw, buf := newTestCast(t)
			for _, p := range tt.parts {
				if err := cw.Output(at(1), []byte(p)); err != nil {
					t.Fatal(err)
				}
			}
			if err := cw.Close(); err != nil {
				t.Fatal(err)
			}
			_, evs := readEvents(t, buf.Bytes())
			var got string
			for _, e := range evs {
				got += e.Data
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCastWriterErrors(t *testing.T) {
	if _, err := NewCastWriter(&bytes.Buffer{}, CastHeader{Width: 0, Height: 24}, castStart); err == nil {
		t.Errorf("NewCastWriter with width 0: got nil error, want one")
	}
	cw, _ := newTestCast(t)
	if err := cw.Resize(at(1), 0, 10); err == nil {
		t.Errorf("Resize 0x10: got nil error, want one")
	}
}

func TestParseCastErrors(t *testing.T) {
	const hdr = `{"version": 2, "width": 80, "height": 24}` + "\n"
	tests := []struct {
		name, in, wantMsg string
	}{
		{"empty", "", "empty stream"},
		{"not json", "hello\n", "header"},
		{"version 1", `{"version": 1, "width": 80, "height": 24}`, "version 1"},
		{"zero size", `{"version": 2, "width": 0, "height": 24}`, "size 0x24"},
		{"event not array", hdr + `{"t": 1}`, "line 2"},
		{"two elements", hdr + `[1.0, "o"]`, "2 elements"},
		{"time is string", hdr + `["1", "o", "x"]`, "event time"},
		{"negative time", hdr + `[-1, "o", "x"]`, "before previous"},
		{"decreasing time", hdr + "[2, \"o\", \"x\"]\n[1, \"o\", \"y\"]", "line 3"},
		{"unknown type", hdr + `[1, "x", "y"]`, "unknown event type"},
		{"data not string", hdr + `[1, "o", 5]`, "event data"},
		{"bad resize", hdr + `[1, "r", "80by24"]`, "COLSxROWS"},
		{"zero resize", hdr + `[1, "r", "0x24"]`, "COLSxROWS"},
		{"line too long", hdr + `[1, "o", "` + strings.Repeat("a", MaxCastLine) + `"]`, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseCast(strings.NewReader(tt.in))
			if !errors.Is(err, ErrInvalidCast) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("got error %v, want ErrInvalidCast mentioning %q", err, tt.wantMsg)
			}
		})
	}
}

func TestParseCastAccepts(t *testing.T) {
	in := `{"version": 2, "width": 80, "height": 24, "idle_time_limit": 2, "theme": {"fg": "#fff"}}` + "\n" +
		"[0, \"o\", \"a\"]\n\n[0, \"i\", \"b\"]\n[1.5e0, \"r\", \"100x50\"]\n"
	h, n, err := ParseCast(strings.NewReader(in))
	if err != nil || n != 3 || h.Width != 80 {
		t.Errorf("got %+v, %d, %v; want 80-wide header, 3 events, nil", h, n, err)
	}
}

func TestReadCastEventsStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	in := `{"version": 2, "width": 80, "height": 24}` + "\n[0, \"o\", \"a\"]\n[1, \"o\", \"b\"]\n"
	calls := 0
	_, err := ReadCastEvents(strings.NewReader(in), func(CastEvent) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("got %v after %d calls, want stop after 1", err, calls)
	}
}
