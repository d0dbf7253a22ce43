package recordings

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// A StreamVisitor receives what [ReadStream] reads, in order. A nil
// function skips what it would receive.
type StreamVisitor struct {
	// Cast receives the asciicast events before the desktop switch (all of
	// them in a terminal recording).
	Cast func(CastEvent) error
	// Desktop is called once, at the desktop switch.
	Desktop func() error
	// Record receives the desktop records; Record.Data is valid only until
	// it returns.
	Record func(Record) error
}

// ReadStream reads a recording's plaintext of either content type
// (FORMAT.md §6): an asciicast v2 stream, or one that switches to a desktop
// stream. It validates everything (see ParseCast and RecordKind) and hands
// it to v. desktop reports whether the switch line was met.
//
// A plaintext that ends early (r returns an error wrapping ErrTruncated)
// is delivered up to its last whole event or record and the error returned
// wraps ErrTruncated, so a player shows what there was and says it is
// incomplete. A malformed stream yields ErrInvalidCast or ErrInvalidDesktop.
func ReadStream(r io.Reader, v StreamVisitor) (h *CastHeader, desktop bool, err error) {
	br := bufio.NewReaderSize(r, 64<<10)
	line, err := readBoundedLine(br)
	if err != nil {
		if err == io.EOF {
			return nil, false, fmt.Errorf("%w: empty stream", ErrInvalidCast)
		}
		return nil, false, err
	}
	if h, err = parseCastHeader(line); err != nil {
		return nil, false, err
	}
	last := 0.0
	for n := 2; ; n++ {
		line, err := readBoundedLine(br)
		if err == io.EOF {
			return h, false, nil
		}
		if err != nil {
			return h, false, err
		}
		if string(line) == DesktopSwitch {
			if v.Desktop != nil {
				if err := v.Desktop(); err != nil {
					return h, true, err
				}
			}
			return h, true, readRecords(br, v.Record)
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ev, err := parseCastEvent(line, last)
		if err != nil {
			return h, false, fmt.Errorf("%w: line %d: %w", ErrInvalidCast, n, err)
		}
		last = ev.Time
		if v.Cast != nil {
			if err := v.Cast(ev); err != nil {
				return h, false, err
			}
		}
	}
}

// readBoundedLine reads one line without its newline, at most MaxCastLine
// bytes. A last line without a newline is a line; a line cut short by an
// error other than io.EOF is dropped and the error returned.
func readBoundedLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		part, err := br.ReadSlice('\n')
		if len(line)+len(part) > MaxCastLine+1 {
			return nil, fmt.Errorf("%w: line longer than %d bytes", ErrInvalidCast, MaxCastLine)
		}
		line = append(line, part...)
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == nil:
			return line[:len(line)-1], nil
		case err == io.EOF && len(line) > 0:
			return line, nil
		case err == io.EOF:
			return nil, io.EOF
		}
		return nil, readErr(err)
	}
}

// readErr wraps a plaintext reader's error for ReadStream's caller.
func readErr(err error) error {
	if errors.Is(err, ErrTruncated) || errors.Is(err, ErrAuthentication) || errors.Is(err, ErrMalformedChunk) ||
		errors.Is(err, ErrTrailingData) {
		return err
	}
	return fmt.Errorf("recordings: reading stream: %w", err)
}

// readRecords reads desktop records until the end of r.
func readRecords(br *bufio.Reader, fn func(Record) error) error {
	var hdr [RecordHeaderSize]byte
	data := make([]byte, MaxRecordData)
	var last time.Duration
	for n := 0; ; n++ {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			if err == io.EOF {
				return nil
			}
			return recordErr(err, n)
		}
		k := RecordKind(hdr[0])
		us, size := binary.BigEndian.Uint64(hdr[1:]), binary.BigEndian.Uint32(hdr[9:])
		if us > uint64(maxRecordTime/time.Microsecond) {
			return fmt.Errorf("%w: record %d: time %d µs out of range", ErrInvalidDesktop, n, us)
		}
		at := time.Duration(us) * time.Microsecond
		if at < last {
			return fmt.Errorf("%w: record %d: time %v is before the previous record's %v", ErrInvalidDesktop, n, at, last)
		}
		if size > MaxRecordData {
			return fmt.Errorf("%w: record %d: %s record of %d bytes exceeds %d", ErrInvalidDesktop, n, k, size, MaxRecordData)
		}
		if _, err := io.ReadFull(br, data[:size]); err != nil {
			return recordErr(err, n)
		}
		if err := checkRecord(k, data[:size]); err != nil {
			return fmt.Errorf("%w: record %d: %v", ErrInvalidDesktop, n, err)
		}
		last = at
		if fn != nil {
			if err := fn(Record{Time: at, Kind: k, Data: data[:size]}); err != nil {
				return err
			}
		}
	}
}

// maxRecordTime bounds a record's time: a session never runs a century.
const maxRecordTime = 100 * 365 * 24 * time.Hour

// recordErr describes a failure to read record n in full.
func recordErr(err error, n int) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: record %d is cut short at the end of the stream", ErrInvalidDesktop, n)
	}
	return fmt.Errorf("after %d desktop records: %w", n, readErr(err))
}
