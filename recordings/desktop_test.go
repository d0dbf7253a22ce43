package recordings

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// testChunk returns a plausible update chunk of n bytes (its first 13 bytes
// are a tile-codec header; the record layer does not look further).
func testChunk(id uint32, n int) []byte {
	b := make([]byte, n)
	binary.BigEndian.PutUint32(b, id)
	for i := 13; i < n; i++ {
		b[i] = byte(i * 7)
	}
	return b
}

// desktopSample writes a short desktop recording's plaintext: terminal
// output and a marker as asciicast, then the switch and one record of every
// kind. It returns the plaintext, the cast events and the records.
func desktopSample(t testing.TB) ([]byte, []CastEvent, []Record) {
	t.Helper()
	var buf bytes.Buffer
	start := testCreated
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	cw, err := NewCastWriter(&buf, CastHeader{Width: 80, Height: 24, Timestamp: start.Unix()}, start)
	if err != nil {
		t.Fatal(err)
	}
	must(t, cw.Marker(at(10), "consent granted: screen-view"))
	must(t, cw.Output(at(20), []byte("hé\xc3"))) // a rune split across two reads
	must(t, cw.Output(at(21), []byte("\xa9!")))
	dw, err := cw.Desktop()
	if err != nil {
		t.Fatal(err)
	}
	cursor := protocol.AppendScreenCursor(nil, protocol.ScreenCursor{X: 5, Y: 6, Flags: protocol.CursorVisible | protocol.CursorShape,
		Serial: 9, Width: 2, Height: 1, Pix: []byte{1, 2, 3, 4, 5, 6, 7, 8}})[1:]
	input := protocol.AppendScreenInput(nil, protocol.ScreenInput{Kind: protocol.InputPointer, X: 5, Y: 6, Buttons: 1})[1:]
	recs := []Record{
		{Time: 1 * time.Second, Kind: RecUpdate, Data: testChunk(1, 40)},
		{Time: 1 * time.Second, Kind: RecUpdate, Data: testChunk(1, 13)},
		{Time: 1500 * time.Millisecond, Kind: RecCursor, Data: cursor},
		{Time: 2 * time.Second, Kind: RecInput, Data: input},
		{Time: 2 * time.Second, Kind: RecKeyframe, Data: testChunk(1, 30)},
		{Time: 3 * time.Second, Kind: RecMarker, Data: []byte("paused by the user")},
		{Time: 3 * time.Second, Kind: RecMarker, Data: []byte{}},
		{Time: 4 * time.Second, Kind: RecOutput, Data: []byte("$ ls\r\n")},
		{Time: 4 * time.Second, Kind: RecTermInput, Data: []byte("ls\r")},
		{Time: 5 * time.Second, Kind: RecResize, Data: []byte{0, 100, 0, 30}},
	}
	for _, r := range recs {
		must(t, dw.Record(start.Add(r.Time), r.Kind, r.Data))
	}
	evs := []CastEvent{{0.01, "m", "consent granted: screen-view"}, {0.02, "o", "hé"}, {0.021, "o", "é!"}}
	return buf.Bytes(), evs, recs
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// readAll reads a plaintext with ReadStream, collecting what it delivers.
func readAll(r io.Reader) (evs []CastEvent, recs []Record, desktop bool, err error) {
	_, desktop, err = ReadStream(r, StreamVisitor{
		Cast: func(e CastEvent) error { evs = append(evs, e); return nil },
		Record: func(r Record) error {
			r.Data = bytes.Clone(r.Data)
			recs = append(recs, r)
			return nil
		},
	})
	return evs, recs, desktop, err
}

func sameRecords(a, b []Record) bool {
	return slices.EqualFunc(a, b, func(x, y Record) bool {
		return x.Time == y.Time && x.Kind == y.Kind && bytes.Equal(x.Data, y.Data)
	})
}

// TestDesktopRoundTrip: a desktop stream sealed in a real recording reads
// back event for event and record for record.
func TestDesktopRoundTrip(t *testing.T) {
	pt, wantEvs, wantRecs := desktopSample(t)
	ids := testIdentities(t, 1)
	ct := encrypt(t, pt, 7, 50, recipientsOf(ids)...)
	r, err := NewReader(bytes.NewReader(ct), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	evs, recs, desktop, err := readAll(r)
	if err != nil || !desktop {
		t.Fatalf("ReadStream: desktop %v, err %v", desktop, err)
	}
	if !slices.Equal(evs, wantEvs) {
		t.Errorf("cast events\n got %+v\nwant %+v", evs, wantEvs)
	}
	if !sameRecords(recs, wantRecs) {
		t.Errorf("records\n got %v\nwant %v", recs, wantRecs)
	}
}

// TestTerminalStreamStaysAsciicast: without the switch ReadStream reads a
// plain asciicast stream, and says it is not a desktop one.
func TestTerminalStreamStaysAsciicast(t *testing.T) {
	pt := katPlaintext(t)
	_, n, err := ParseCast(bytes.NewReader(pt))
	if err != nil {
		t.Fatal(err)
	}
	evs, recs, desktop, err := readAll(bytes.NewReader(pt))
	if err != nil || desktop || len(recs) != 0 || len(evs) != n {
		t.Fatalf("got %d events, %d records, desktop %v, err %v; want %d events", len(evs), len(recs), desktop, err, n)
	}
}

// TestDesktopTruncated: a recording cut anywhere plays up to its last
// whole chunk's last whole record and then says it is truncated.
func TestDesktopTruncated(t *testing.T) {
	pt, _, wantRecs := desktopSample(t)
	ids := testIdentities(t, 1)
	ct := encrypt(t, pt, 16, 64, recipientsOf(ids)...) // many small chunks
	hlen := headerLen(t, ct)
	most := 0
	for cut := hlen; cut < len(ct)-1; cut += 13 {
		r, err := NewReader(bytes.NewReader(ct[:cut]), ids[0])
		if err != nil {
			t.Fatal(err)
		}
		_, recs, _, err := readAll(r)
		if !errors.Is(err, ErrTruncated) {
			t.Fatalf("cut at %d: got %v, want ErrTruncated", cut, err)
		}
		if !sameRecords(recs, wantRecs[:len(recs)]) {
			t.Fatalf("cut at %d: the records before the cut differ", cut)
		}
		most = max(most, len(recs))
	}
	if most < len(wantRecs)/2 {
		t.Fatalf("at most %d of %d records played before a cut", most, len(wantRecs))
	}
}

// TestDesktopReaderRefuses: every malformed record is refused clearly, and
// what came before it was delivered.
func TestDesktopReaderRefuses(t *testing.T) {
	prefix := []byte(`{"version": 2, "width": 80, "height": 24}` + "\n" + DesktopSwitch + "\n")
	rec := func(k RecordKind, us uint64, size uint32, data []byte) []byte {
		b := []byte{byte(k)}
		b = binary.BigEndian.AppendUint64(b, us)
		b = binary.BigEndian.AppendUint32(b, size)
		return append(b, data...)
	}
	good := rec(RecMarker, 5, 2, []byte("ok"))
	for _, tc := range []struct {
		name, want string
		body       []byte
	}{
		{"unknown kind", "unknown record kind 0x09", rec(9, 6, 1, []byte{0})},
		{"kind zero", "unknown record kind 0x00", rec(0, 6, 0, nil)},
		{"oversized", "exceeds 65536", rec(RecOutput, 6, MaxRecordData+1, nil)},
		{"huge length", "exceeds 65536", rec(RecUpdate, 6, 0xffffffff, nil)},
		{"time backwards", "before the previous", rec(RecMarker, 4, 0, nil)},
		{"time absurd", "out of range", rec(RecMarker, 1<<62, 0, nil)},
		{"short update", "shorter than its 13-byte header", rec(RecUpdate, 6, 12, make([]byte, 12))},
		{"bad cursor", "cursor record", rec(RecCursor, 6, 5, []byte{0, 0, 0, 0, 0x80})},
		{"bad input", "input record", rec(RecInput, 6, 2, []byte{0x03, 50})},
		{"marker not UTF-8", "not UTF-8", rec(RecMarker, 6, 1, []byte{0xff})},
		{"marker too long", "not UTF-8 of at most 4096", rec(RecMarker, 6, 4097, bytes.Repeat([]byte("a"), 4097))},
		{"empty output", "empty output record", rec(RecOutput, 6, 0, nil)},
		{"resize zero", "resize record", rec(RecResize, 6, 4, []byte{0, 0, 0, 24})},
		{"resize long", "resize record", rec(RecResize, 6, 5, []byte{0, 80, 0, 24, 0})},
		{"header cut", "record 1 is cut short", []byte{byte(RecMarker), 0, 0}},
		{"payload cut", "record 1 is cut short", rec(RecOutput, 6, 10, []byte("abc"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Concat(prefix, good, tc.body)
			_, recs, desktop, err := readAll(bytes.NewReader(in))
			if !errors.Is(err, ErrInvalidDesktop) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrInvalidDesktop saying %q", err, tc.want)
			}
			if !desktop || len(recs) != 1 || string(recs[0].Data) != "ok" {
				t.Fatalf("the good record before the bad one was not delivered: %v", recs)
			}
		})
	}
}

// TestDesktopWriterRefuses: a writer never produces what a reader refuses,
// and its helpers split, clean and cut as documented.
func TestDesktopWriterRefuses(t *testing.T) {
	var buf bytes.Buffer
	cw, err := NewCastWriter(&buf, CastHeader{Width: 80, Height: 24}, testCreated)
	must(t, err)
	dw, err := cw.Desktop()
	must(t, err)
	for _, tc := range []struct {
		k    RecordKind
		data []byte
	}{
		{RecUpdate, make([]byte, 5)},
		{RecKeyframe, make([]byte, MaxRecordData+1)},
		{RecCursor, nil},
		{RecInput, []byte{0x01}},
		{RecResize, []byte{0, 1}},
		{0x42, []byte("x")},
	} {
		if err := dw.Record(testCreated, tc.k, tc.data); err == nil {
			t.Errorf("%s record of %d bytes accepted", tc.k, len(tc.data))
		}
	}
	if err := dw.Resize(testCreated, 0, 24); err == nil {
		t.Error("resize 0x24 accepted")
	}
	must(t, dw.Output(testCreated.Add(time.Second), bytes.Repeat([]byte("x"), MaxRecordData+10)))
	must(t, dw.Marker(testCreated.Add(time.Second), "bad \xff"+strings.Repeat("é", 3000)))
	must(t, dw.Output(testCreated, []byte("late"))) // earlier than the last: clamped
	_, recs, _, err := readAll(&buf)
	must(t, err)
	if len(recs) != 4 || len(recs[0].Data) != MaxRecordData || len(recs[1].Data) != 10 {
		t.Fatalf("output not split into 65536 + 10: %d records", len(recs))
	}
	if m := string(recs[2].Data); len(m) > MaxMarker || !strings.HasPrefix(m, "bad \uFFFD") || len(m) < MaxMarker-1 {
		t.Fatalf("marker not cleaned and cut: %d bytes %q…", len(m), m[:10])
	}
	if recs[3].Time != time.Second {
		t.Fatalf("a late record's time %v was not clamped to 1s", recs[3].Time)
	}
}

// TestDesktopStopEarly: an error from the visitor stops the reading.
func TestDesktopStopEarly(t *testing.T) {
	pt, _, _ := desktopSample(t)
	stop := errors.New("stop")
	n := 0
	_, _, err := ReadStream(bytes.NewReader(pt), StreamVisitor{Record: func(Record) error { n++; return stop }})
	if err != stop || n != 1 {
		t.Fatalf("got %v after %d records, want the visitor's error after 1", err, n)
	}
}

// TestDesktopKAT pins the record framing: the sample written at fixed
// times is byte for byte testdata/desktop-kat/stream.bin, whose records
// testdata/desktop-kat/records.txt lists.
func TestDesktopKAT(t *testing.T) {
	pt, _, recs := desktopSample(t)
	var list strings.Builder
	off := bytes.Index(pt, []byte(DesktopSwitch+"\n")) + len(DesktopSwitch) + 1
	fmt.Fprintf(&list, "switch line ends at offset %d\n", off)
	for _, r := range recs {
		fmt.Fprintf(&list, "offset %d: kind %02x (%s) time %d µs length %d: %x\n", off, byte(r.Kind), r.Kind,
			r.Time.Microseconds(), len(r.Data), pt[off:off+RecordHeaderSize])
		off += RecordHeaderSize + len(r.Data)
	}
	if *updateKAT || *updateDesktopKAT {
		writeTestdata(t, "testdata/desktop-kat/stream.bin", pt)
		writeTestdata(t, "testdata/desktop-kat/records.txt", []byte(list.String()))
		writeDesktopSeeds(t, pt)
	}
	if want := readKATFile(t, "testdata/desktop-kat", "stream.bin"); !bytes.Equal(pt, want) {
		t.Fatalf("the sample stream differs from stream.bin: the record framing changed")
	}
	if want := readKATFile(t, "testdata/desktop-kat", "records.txt"); string(want) != list.String() {
		t.Fatalf("records.txt differs:\n%s", list.String())
	}
}
