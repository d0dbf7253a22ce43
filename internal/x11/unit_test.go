package x11

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/screen"
)

// xauthRecord encodes one Xauthority record.
func xauthRecord(family uint16, addr, num, name string, data []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, family)
	for _, f := range [][]byte{[]byte(addr), []byte(num), []byte(name), data} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	return b
}

func TestPickCookie(t *testing.T) {
	c1, c2, c3 := bytes.Repeat([]byte{1}, 16), bytes.Repeat([]byte{2}, 16), bytes.Repeat([]byte{3}, 16)
	file := append(append(append(append(
		xauthRecord(familyLocal, "otherhost", "0", cookieName, c1),
		xauthRecord(familyLocal, "myhost", "1", cookieName, c2)...),
		xauthRecord(familyLocal, "myhost", "0", "XDM-AUTHORIZATION-1", c1)...),
		xauthRecord(familyWild, "", "", cookieName, c3)...),
		xauthRecord(familyLocal, "myhost", "0", cookieName, []byte{1, 2})...) // short cookie: ignored
	entries, err := parseXauthority(file)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		host, num string
		want      []byte
	}{
		{"myhost", "1", c2},
		{"myhost", "0", c3},    // only the wildcard fits
		{"otherhost", "0", c1}, // first match wins
		{"myhost", "7", c3},
	}
	for _, c := range cases {
		got, ok := pickCookie(entries, c.host, c.num)
		if !ok || !bytes.Equal(got, c.want) {
			t.Errorf("pickCookie(%s, %s) = %x, %v; want %x", c.host, c.num, got, ok, c.want)
		}
	}
	if _, ok := pickCookie(entries[:3], "myhost", "0"); ok {
		t.Error("pickCookie found a cookie where none matches")
	}
}

func TestParseXauthorityRejectsTruncation(t *testing.T) {
	rec := xauthRecord(familyWild, "", "0", cookieName, bytes.Repeat([]byte{9}, 16))
	for i := 1; i < len(rec); i++ {
		if _, err := parseXauthority(rec[:i]); err == nil {
			t.Fatalf("truncated at %d bytes: no error", i)
		}
	}
	if e, err := parseXauthority(nil); err != nil || len(e) != 0 {
		t.Fatalf("empty file: %v, %v", e, err)
	}
}

func TestWriteXauthorityRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "xa")
	cookie := bytes.Repeat([]byte{0xab}, 16)
	if err := WriteXauthority(path, "4", cookie); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	got, err := loadCookie(path, "4", true)
	if err != nil || !bytes.Equal(got, cookie) {
		t.Fatalf("loadCookie = %x, %v", got, err)
	}
	if _, err := loadCookie(path, "5", true); err == nil || !strings.Contains(err.Error(), "no MIT-MAGIC-COOKIE-1 for display :5") {
		t.Fatalf("other display: %v", err)
	}
	if _, err := loadCookie(path+".missing", "4", true); err == nil {
		t.Fatal("missing explicit file: no error")
	}
	if c, err := loadCookie(path+".missing", "4", false); err != nil || c != nil {
		t.Fatalf("missing default file: %x, %v", c, err)
	}
}

func TestSetupRequest(t *testing.T) {
	cookie := bytes.Repeat([]byte{7}, 16)
	req := setupRequest(cookie)
	if len(req) != 12+20+16 || req[0] != 'l' || binary.LittleEndian.Uint16(req[2:]) != 11 ||
		binary.LittleEndian.Uint16(req[6:]) != 18 || binary.LittleEndian.Uint16(req[8:]) != 16 ||
		string(req[12:30]) != cookieName || !bytes.Equal(req[32:], cookie) {
		t.Fatalf("setup request %x", req)
	}
	if req := setupRequest(nil); len(req) != 12 || binary.LittleEndian.Uint16(req[6:]) != 0 {
		t.Fatalf("no-auth setup request %x", req)
	}
}

func TestParseDisplay(t *testing.T) {
	cases := []struct {
		in, network, addr, num string
		screen                 int
		ok                     bool
	}{
		{":0", "unix", "/tmp/.X11-unix/X0", "0", 0, true},
		{":12.1", "unix", "/tmp/.X11-unix/X12", "12", 1, true},
		{"unix:3", "unix", "/tmp/.X11-unix/X3", "3", 0, true},
		{"localhost:10.0", "tcp", "localhost:6010", "10", 0, true},
		{"[::1]:2", "tcp", "[::1]:6002", "2", 0, true},
		{"", "", "", "", 0, false},
		{":", "", "", "", 0, false},
		{":x", "", "", "", 0, false},
		{":1.x", "", "", "", 0, false},
		{":-1", "", "", "", 0, false},
		{":99999", "", "", "", 0, false},
		{"wayland-0", "", "", "", 0, false},
	}
	for _, c := range cases {
		network, addr, num, scr, err := parseDisplay(c.in)
		if (err == nil) != c.ok {
			t.Errorf("parseDisplay(%q) error %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if c.ok && (network != c.network || addr != c.addr || num != c.num || scr != c.screen) {
			t.Errorf("parseDisplay(%q) = %s %s %s %d", c.in, network, addr, num, scr)
		}
	}
}

func TestStraightRGBA(t *testing.T) {
	cases := []struct {
		argb uint32
		want [4]byte
	}{
		{0xff102030, [4]byte{0x10, 0x20, 0x30, 0xff}}, // opaque: unchanged
		{0x00000000, [4]byte{0, 0, 0, 0}},             // transparent
		{0x00ffffff, [4]byte{0, 0, 0, 0}},             // invalid premultiplied: cleared
		{0x80800000, [4]byte{0xff, 0, 0, 0x80}},       // half red
		{0x80404040, [4]byte{0x80, 0x80, 0x80, 0x80}}, // half grey
		{0x10ff0000, [4]byte{0xff, 0, 0, 0x10}},       // overflow capped
	}
	for _, c := range cases {
		got := straightRGBA([]uint32{c.argb})
		if [4]byte(got) != c.want {
			t.Errorf("straightRGBA(%08x) = %x, want %x", c.argb, got, c.want)
		}
	}
}

func TestMergeChange(t *testing.T) {
	r := func(x, y, w, h int) screen.Rect { return screen.Rect{X: x, Y: y, W: w, H: h} }
	p := mergeChange(screen.Change{}, screen.Change{Damage: []screen.Rect{r(-5, -5, 10, 10), r(95, 0, 10, 10), r(200, 0, 1, 1)}}, 100, 50)
	if len(p.Damage) != 2 || p.Damage[0] != r(0, 0, 5, 5) || p.Damage[1] != r(95, 0, 5, 10) {
		t.Fatalf("clipped damage %+v", p.Damage)
	}
	p = mergeChange(p, screen.Change{Cursor: true}, 100, 50)
	if !p.Cursor || len(p.Damage) != 2 {
		t.Fatalf("cursor merge %+v", p)
	}
	for i := 0; i < 100; i++ {
		p = mergeChange(p, screen.Change{Damage: []screen.Rect{r(i%90, 10+i%30, 2, 2)}}, 100, 50)
		if len(p.Damage) > maxDamageRects {
			t.Fatalf("%d rectangles, bound %d", len(p.Damage), maxDamageRects)
		}
	}
	if bb := boundingBox(p.Damage); !bb.Within(100, 50) || bb.W < 90 {
		t.Fatalf("bounding box %+v", bb)
	}
	p = mergeChange(p, screen.Change{Resized: true}, 100, 50)
	if !p.Resized || p.Damage != nil || !p.Cursor {
		t.Fatalf("resize merge %+v", p)
	}
	p = mergeChange(p, screen.Change{Damage: []screen.Rect{r(0, 0, 1, 1)}}, 100, 50)
	if p.Damage != nil {
		t.Fatalf("damage kept after a resize: %+v", p.Damage)
	}
}

func TestBandRows(t *testing.T) {
	cases := []struct{ limit, row, want int }{
		{65535 * 4, 1920 * 4, 34},
		{1 << 24, 1920 * 4, 2184},
		{100, 1920 * 4, 1},
	}
	for _, c := range cases {
		if got := bandRows(c.limit, c.row); got != c.want {
			t.Errorf("bandRows(%d, %d) = %d, want %d", c.limit, c.row, got, c.want)
		}
	}
}
