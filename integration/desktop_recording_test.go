package integration

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/screen"
	"github.com/tether-support/tether/internal/tilecodec"
	"github.com/tether-support/tether/internal/x11/x11test"
	"github.com/tether-support/tether/recordings"
)

// TestDesktopRecording: the desktop stream the viewer received is in the
// session's recording; decoding its updates ends on the framebuffer the
// viewer ended on, and so does starting at the recording's last keyframe
// (the first comes right after the stream's first update). With
// record_input, the input acted on is recorded too.
func TestDesktopRecording(t *testing.T) {
	t.Parallel()
	x := x11test.StartXvfb(t, 320, 240)
	win := x11test.NewWindow(t, x, screen.Rect{X: 32, Y: 64, W: 192, H: 128})
	win.Pattern(1, 8)
	win.Sync()
	e := newEnv(t)
	if r := e.techRun("", "policy", "set", "--record-input"); r.code != 0 {
		t.Fatalf("policy set: %s", r.stderr)
	}
	d := e.desktopAgent("desk-rec", x, "exit 0")
	s, ds, sink := e.openView(t, d.name, protocol.CapScreenControl)
	for seed := 2; seed < 6; seed++ {
		eventually(t, "the window", 20*time.Second, func() bool { return sink.shows(win) })
		win.Pattern(seed, 8)
		win.Sync()
	}
	eventually(t, "the last window", 20*time.Second, func() bool { return sink.shows(win) })
	if err := ds.Input(protocol.ScreenInput{Kind: protocol.InputPointer, X: 40, Y: 80}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the pointer moved", 10*time.Second, func() bool { px, py, _ := pointer(t, x); return px == 40 && py == 80 })
	live, _, _ := sink.snapshot()
	s.End("done")
	ds.Wait()
	id := e.onlyRecording("complete")

	f, err := os.Open(filepath.Join(e.dir, "data", "recordings", id+".rec"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ident, err := recordings.ReadIdentityFile(e.reviewer)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := recordings.NewReader(f, ident)
	if err != nil {
		t.Fatal(err)
	}
	var recs []recordings.Record
	var markers []string
	_, desktop, err := recordings.ReadStream(rd, recordings.StreamVisitor{
		Cast: func(ev recordings.CastEvent) error {
			if ev.Type == "m" {
				markers = append(markers, ev.Data)
			}
			return nil
		},
		Record: func(r recordings.Record) error {
			if r.Kind == recordings.RecMarker {
				markers = append(markers, string(r.Data))
			}
			r.Data = bytes.Clone(r.Data)
			recs = append(recs, r)
			return nil
		},
	})
	if err != nil || !desktop {
		t.Fatalf("read the recording: desktop %v, %v", desktop, err)
	}
	// Straight through: live updates only.
	dec := tilecodec.NewDecoder(tilecodec.Limits{})
	lastKey, inputs := -1, 0
	for i, r := range recs {
		switch r.Kind {
		case recordings.RecUpdate:
			if _, err := dec.Apply(r.Data); err != nil {
				t.Fatalf("record %d: %v", i, err)
			}
		case recordings.RecKeyframe:
			if i == 0 || recs[i-1].Kind != recordings.RecKeyframe {
				lastKey = i
			}
		case recordings.RecInput:
			inputs++
		}
	}
	if diff := x11test.Diff(dec.Frame(), live); diff != "" {
		t.Fatalf("the recording played through ends on another frame: %s", diff)
	}
	if lastKey < 0 {
		t.Fatal("no keyframe in the recording")
	}
	// From the last keyframe.
	dec = tilecodec.NewDecoder(tilecodec.Limits{})
	for i := lastKey; i < len(recs); i++ {
		if k := recs[i].Kind; k == recordings.RecUpdate || (k == recordings.RecKeyframe && i == lastKey) ||
			(k == recordings.RecKeyframe && recs[i-1].Kind == recordings.RecKeyframe) {
			if _, err := dec.Apply(recs[i].Data); err != nil {
				t.Fatalf("from the keyframe at record %d, record %d: %v", lastKey, i, err)
			}
		}
	}
	if diff := x11test.Diff(dec.Frame(), live); diff != "" {
		t.Fatalf("the recording played from its last keyframe ends on another frame: %s", diff)
	}
	if inputs != 1 {
		t.Errorf("%d input records, want 1 (the pointer move)", inputs)
	}
	if !strings.Contains(strings.Join(markers, "\n"), "screen sharing started: X display "+x.Display) {
		t.Errorf("markers: %q", markers)
	}
}
