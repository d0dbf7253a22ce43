package recordings

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tether-support/tether/internal/protocol"
)

// DesktopSwitch is the line that turns an asciicast stream into a desktop
// stream: every byte after it is records (FORMAT.md §6.1). Without a
// newline; the stream holds it followed by '\n'.
const DesktopSwitch = "tether-desktop/1"

// Desktop stream limits (FORMAT.md §6.1).
const (
	// RecordHeaderSize is the size of a record's kind, time and length.
	RecordHeaderSize = 13
	// MaxRecordData bounds one record's payload.
	MaxRecordData = 64 << 10
	// MaxMarker bounds a marker record's text, in bytes.
	MaxMarker = 4096
	// MinUpdateChunk is the smallest screen update chunk: its header.
	MinUpdateChunk = 13
)

// RecordKind says what a desktop stream record holds.
type RecordKind byte

// Record kinds (FORMAT.md §6.1).
const (
	// RecUpdate is one chunk of a live screen update, the InScreenUpdate
	// payload exactly as the viewer received it.
	RecUpdate RecordKind = 0x01
	// RecKeyframe is one chunk of a keyframe: a full, self-contained update
	// of the last frame sent, made for the recording only.
	RecKeyframe RecordKind = 0x02
	// RecCursor is an InScreenCursor payload.
	RecCursor RecordKind = 0x03
	// RecInput is an InScreenInput payload the technician sent.
	RecInput RecordKind = 0x04
	// RecMarker is a label (UTF-8, at most MaxMarker bytes).
	RecMarker RecordKind = 0x05
	// RecOutput is terminal output bytes.
	RecOutput RecordKind = 0x06
	// RecTermInput is terminal input bytes.
	RecTermInput RecordKind = 0x07
	// RecResize is a terminal size: cols, rows (uint16 BE each, non-zero).
	RecResize RecordKind = 0x08
)

// String names the kind for errors and tools.
func (k RecordKind) String() string {
	switch k {
	case RecUpdate:
		return "update"
	case RecKeyframe:
		return "keyframe"
	case RecCursor:
		return "cursor"
	case RecInput:
		return "input"
	case RecMarker:
		return "marker"
	case RecOutput:
		return "output"
	case RecTermInput:
		return "terminal input"
	case RecResize:
		return "resize"
	}
	return fmt.Sprintf("kind 0x%02x", byte(k))
}

// A Record is one record of a desktop stream.
type Record struct {
	// Time is measured from the start of the recording, like a cast
	// event's, with microsecond resolution.
	Time time.Duration
	Kind RecordKind
	// Data is the payload. From a reader it is valid only until the
	// callback returns.
	Data []byte
}

// CheckRecord reports whether data is a valid payload for a record of kind
// k (FORMAT.md §6.1), as a writer would refuse it.
func CheckRecord(k RecordKind, data []byte) error {
	if err := checkRecord(k, data); err != nil {
		return fmt.Errorf("recordings: %w", err)
	}
	return nil
}

// checkRecord checks a record's payload against its kind's rules.
func checkRecord(k RecordKind, data []byte) error {
	n := len(data)
	if n > MaxRecordData {
		return fmt.Errorf("%s record of %d bytes exceeds %d", k, n, MaxRecordData)
	}
	switch k {
	case RecUpdate, RecKeyframe:
		if n < MinUpdateChunk {
			return fmt.Errorf("%s chunk of %d bytes is shorter than its %d-byte header", k, n, MinUpdateChunk)
		}
	case RecCursor:
		if _, err := protocol.ParseScreenCursor(data); err != nil {
			return fmt.Errorf("cursor record: %w", err)
		}
	case RecInput:
		if _, err := protocol.ParseScreenInput(data); err != nil {
			return fmt.Errorf("input record: %w", err)
		}
	case RecMarker:
		if n > MaxMarker || !utf8.Valid(data) {
			return fmt.Errorf("marker of %d bytes is not UTF-8 of at most %d bytes", n, MaxMarker)
		}
	case RecOutput, RecTermInput:
		if n == 0 {
			return fmt.Errorf("empty %s record", k)
		}
	case RecResize:
		if n != 4 || binary.BigEndian.Uint16(data) == 0 || binary.BigEndian.Uint16(data[2:]) == 0 {
			return fmt.Errorf("resize record is not two non-zero uint16")
		}
	default:
		return fmt.Errorf("unknown record kind 0x%02x", byte(k))
	}
	return nil
}

// A DesktopWriter writes the records of a desktop stream. Record times never
// decrease: a time earlier than the previous record's is written as that.
// It is not safe for concurrent use. Get one from [CastWriter.Desktop].
type DesktopWriter struct {
	w     io.Writer
	start time.Time
	last  time.Duration // microseconds, as written
	buf   []byte
}

// Desktop switches the stream to a desktop stream (FORMAT.md §6.1): it
// writes what Close would, then the switch line, and returns the writer of
// the records that follow, with the same start time. The CastWriter must
// not be used afterwards.
func (c *CastWriter) Desktop() (*DesktopWriter, error) {
	if err := c.Close(); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(c.w, DesktopSwitch+"\n"); err != nil {
		return nil, fmt.Errorf("recordings: writing desktop switch: %w", err)
	}
	return &DesktopWriter{w: c.w, start: c.start, last: c.last.Round(time.Microsecond)}, nil
}

// Record writes one record at time t. Its payload must obey its kind's
// rules (see RecordKind); Output, TermInput and Marker are friendlier.
func (d *DesktopWriter) Record(t time.Time, k RecordKind, data []byte) error {
	if err := checkRecord(k, data); err != nil {
		return fmt.Errorf("recordings: %w", err)
	}
	at := max(t.Sub(d.start).Round(time.Microsecond), d.last)
	d.last = at
	b := append(d.buf[:0], byte(k))
	b = binary.BigEndian.AppendUint64(b, uint64(at/time.Microsecond))
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	d.buf = b
	if _, err := d.w.Write(b); err != nil {
		return fmt.Errorf("recordings: writing %s record: %w", k, err)
	}
	if _, err := d.w.Write(data); err != nil {
		return fmt.Errorf("recordings: writing %s record: %w", k, err)
	}
	return nil
}

// Output writes terminal output, split into records of at most
// MaxRecordData bytes; nothing for empty data.
func (d *DesktopWriter) Output(t time.Time, data []byte) error {
	return d.split(t, RecOutput, data)
}

// TermInput writes terminal input like Output.
func (d *DesktopWriter) TermInput(t time.Time, data []byte) error {
	return d.split(t, RecTermInput, data)
}

func (d *DesktopWriter) split(t time.Time, k RecordKind, data []byte) error {
	for len(data) > 0 {
		n := min(len(data), MaxRecordData)
		if err := d.Record(t, k, data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// Resize writes a terminal size.
func (d *DesktopWriter) Resize(t time.Time, cols, rows int) error {
	if cols <= 0 || rows <= 0 || cols > 0xffff || rows > 0xffff {
		return fmt.Errorf("recordings: resize %dx%d out of range", cols, rows)
	}
	var b [4]byte
	binary.BigEndian.PutUint16(b[:], uint16(cols))
	binary.BigEndian.PutUint16(b[2:], uint16(rows))
	return d.Record(t, RecResize, b[:])
}

// Marker writes a label: invalid UTF-8 becomes U+FFFD and a label over
// MaxMarker bytes is cut (on a rune boundary).
func (d *DesktopWriter) Marker(t time.Time, label string) error {
	label = strings.ToValidUTF8(label, "\uFFFD")
	if len(label) > MaxMarker {
		cut := MaxMarker
		for cut > 0 && !utf8.RuneStart(label[cut]) {
			cut--
		}
		label = label[:cut]
	}
	return d.Record(t, RecMarker, []byte(label))
}
