package playback

import (
	"encoding/binary"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/tether-support/tether/internal/screen"
)

// Info is the page's description of the recording (GET api/info).
type Info struct {
	Desktop    bool         `json:"desktop"`
	Title      string       `json:"title"`
	DurationMS int64        `json:"duration_ms"`
	Speed      float64      `json:"speed"`
	Markers    []MarkerInfo `json:"markers"`
	// Incomplete says why the recording ends early; empty when whole.
	Incomplete string `json:"incomplete,omitempty"`
}

// MarkerInfo is one marker on the timeline. The page shows Label as text.
type MarkerInfo struct {
	MS    int64  `json:"ms"`
	Label string `json:"label"`
}

func (s *Server) info(w http.ResponseWriter) {
	in := Info{Desktop: s.rec.Desktop, Title: s.opts.Title, DurationMS: s.rec.Duration.Milliseconds(),
		Speed: s.opts.Speed, Markers: []MarkerInfo{}}
	for _, m := range s.rec.Markers {
		in.Markers = append(in.Markers, MarkerInfo{m.Time.Milliseconds(), m.Label})
	}
	if s.rec.Cut != nil {
		in.Incomplete = "The recording ends early (it was cut short, e.g. the agent stopped): it plays up to the cut."
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(in)
}

// maxRects is the most tiles one frame answer lists before it sends the
// whole framebuffer instead.
const maxRects = 256

// Frame answer flags.
const (
	frameFull      = 0x01 // the rectangles cover the whole framebuffer
	frameCursor    = 0x02 // the cursor position is known
	frameCursorVis = 0x04 // and the pointer is visible
	frameNone      = 0x08 // no screen yet at this time
)

// frame serves GET api/frame?t=MS[&full=1]: the player moves to t and
// answers what changed since the page's previous frame answer (everything
// with full=1):
//
//	width, height uint16 · t uint32 (ms) · cursor x, y uint16 · flags byte ·
//	error length uint16, error text · rect count uint16 ·
//	per rect: x, y, w, h uint16 · w·h·4 bytes RGBA
func (s *Server) frame(w http.ResponseWriter, r *http.Request) {
	ms, err := strconv.ParseInt(r.URL.Query().Get("t"), 10, 64)
	if err != nil || ms < 0 {
		http.Error(w, "t must be a time in milliseconds", http.StatusBadRequest)
		return
	}
	at := s.rec.Duration // the end, to the microsecond, for ms at or past the last millisecond
	if ms < at.Milliseconds() {
		at = time.Duration(ms) * time.Millisecond
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.player
	p.AdvanceTo(at)
	full, dirty := p.Take()
	f := p.Frame()
	var flags byte
	var rects []screen.Rect
	switch {
	case f == nil:
		flags |= frameNone
	case full || r.URL.Query().Get("full") == "1" || len(dirty) > maxRects:
		flags |= frameFull
		rects = []screen.Rect{f.Bounds()}
	default:
		rects = dedupe(dirty)
	}
	x, y, vis, ok := p.Cursor()
	if ok {
		flags |= frameCursor
		if vis {
			flags |= frameCursorVis
		}
	}
	var b []byte
	width, height := 0, 0
	if f != nil {
		width, height = f.Width, f.Height
	}
	b = binary.BigEndian.AppendUint16(b, uint16(width))
	b = binary.BigEndian.AppendUint16(b, uint16(height))
	b = binary.BigEndian.AppendUint32(b, uint32(p.Pos().Milliseconds()))
	b = binary.BigEndian.AppendUint16(b, uint16(max(x, 0)))
	b = binary.BigEndian.AppendUint16(b, uint16(max(y, 0)))
	b = append(b, flags)
	msg := ""
	if err := p.Err(); err != nil {
		msg = err.Error()
	}
	msg = msg[:min(len(msg), 1000)]
	b = binary.BigEndian.AppendUint16(b, uint16(len(msg)))
	b = append(b, msg...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(rects)))
	for _, rc := range rects {
		b = appendRect(b, f, rc)
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Write(b)
}

// dedupe drops repeated tiles (a tile drawn by several updates).
func dedupe(rs []screen.Rect) []screen.Rect {
	seen := make(map[screen.Rect]bool, len(rs))
	out := rs[:0:0]
	for _, r := range rs {
		if !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// appendRect appends rc's header and its pixels as RGBA.
func appendRect(b []byte, f *screen.Frame, rc screen.Rect) []byte {
	for _, v := range []int{rc.X, rc.Y, rc.W, rc.H} {
		b = binary.BigEndian.AppendUint16(b, uint16(v))
	}
	for y := rc.Y; y < rc.Y+rc.H; y++ {
		row := f.Pix[y*f.Stride+rc.X*4 : y*f.Stride+(rc.X+rc.W)*4]
		for i := 0; i < len(row); i += 4 {
			b = append(b, row[i+2], row[i+1], row[i], 0xff)
		}
	}
	return b
}

// cast serves the asciicast events (a terminal recording's, or a desktop
// recording's before its switch) as an asciicast v2 file.
func (s *Server) cast(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	h := *s.rec.Header
	h.Version = 2
	b, _ := json.Marshal(h)
	b = append(b, '\n')
	for _, e := range s.rec.Cast {
		line, _ := json.Marshal([]any{e.Time, e.Type, e.Data})
		b = append(append(b, line...), '\n')
	}
	w.Write(b)
}
