package audit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/tether-support/tether/internal/store"
)

// ErrNotCovered means a remembered head or checkpoint is older than the
// first entry of an export (the log was pruned, or the export was made
// with --since), so the export can neither prove nor disprove it.
var ErrNotCovered = errors.New("audit: the point is older than the first entry of the export")

// ExportLog is a JSONL export read back by an ExportReader: its entries
// form one internally consistent chain, its signed head (if any) verifies
// under the head key it carries and is in the chain. It keeps each entry's
// hash so that Extends can check points a client remembers.
type ExportLog struct {
	// First and Last are the sequence numbers of the first and last entry
	// (both 0 for an export without entries).
	First, Last uint64
	// Trailer is what the export carried after its entries.
	Trailer
	firstPrev []byte
	hashes    [][]byte // hashes[i] is entry First+i's Hash
}

// Entries returns how many entries the export holds.
func (x *ExportLog) Entries() int { return len(x.hashes) }

// Extends checks that the export is an extension of the head p: that the
// export's entry p.Seq has p.Hash, so the export's chain continues from
// it (every later entry links to it by Prev and hash). It returns nil,
// ErrNotCovered when p is older than the export's first entry, or a
// *VerifyError naming the entry where the history differs.
func (x *ExportLog) Extends(p *SignedHead) error {
	when := p.Time.UTC().Format("2006-01-02T15:04:05Z")
	switch {
	case len(x.hashes) == 0 || p.Seq > x.Last:
		return &VerifyError{Seq: x.Last + 1, Reason: fmt.Sprintf(
			"missing: the log ends at entry %d but a head at entry %d was signed at %s (entries were removed)", x.Last, p.Seq, when)}
	case p.Seq < x.First:
		return ErrNotCovered
	case !bytes.Equal(x.hashes[p.Seq-x.First], p.Hash):
		return &VerifyError{Seq: p.Seq, Reason: fmt.Sprintf(
			"differs from the head signed at %s: the history up to it was rewritten", when)}
	}
	return nil
}

// ExportReader checks a JSONL export line by line. Feed it every line with
// Line, then call Finish.
type ExportReader struct {
	log      ExportLog
	last     *store.AuditRecord
	trailers bool
}

// Line checks one line of the export: an entry (which must follow the
// previous one) or a trailer line (after which only trailer lines may
// follow). Errors are *VerifyError.
func (x *ExportReader) Line(line []byte) error {
	next := uint64(1)
	if x.last != nil {
		next = x.last.Seq + 1
	}
	if isTrailer(line) {
		x.trailers = true
		if err := x.log.Trailer.add(line); err != nil {
			return &VerifyError{Reason: err.Error()}
		}
		return nil
	}
	if x.trailers {
		return &VerifyError{Seq: next, Reason: "entry after the export's trailer"}
	}
	rec, err := parseExported(line)
	if err != nil {
		return &VerifyError{Seq: next, Reason: err.Error()}
	}
	if verr := checkExported(rec, x.last); verr != nil {
		return verr
	}
	if x.last == nil {
		x.log.First, x.log.firstPrev = rec.Seq, rec.Prev
	}
	x.log.Last = rec.Seq
	x.log.hashes = append(x.log.hashes, rec.Hash)
	x.last = rec
	return nil
}

// Finish checks the trailer against the entries and returns the log: the
// signed head verifies under the head key and is in the chain (or the
// chain ends before it: entries were removed), and a prune checkpoint at
// the first entry matches its Prev.
func (x *ExportReader) Finish() (*ExportLog, error) {
	l := &x.log
	if h := l.Head; h != nil {
		if err := h.VerifyHead(l.HeadKey); err != nil {
			return nil, &VerifyError{Seq: h.Seq, Reason: "the signed head's signature does not verify under the head key"}
		}
		if err := l.Extends(h); err != nil && !errors.Is(err, ErrNotCovered) {
			return nil, err
		}
	}
	if cp := l.Prune; cp != nil {
		if err := cp.VerifyCheckpoint(l.HeadKey); err != nil {
			return nil, &VerifyError{Seq: cp.Seq, Reason: "the prune checkpoint's signature does not verify under the head key"}
		}
		if cp.Seq == l.First && !bytes.Equal(cp.Hash, l.firstPrev) {
			return nil, &VerifyError{Seq: cp.Seq, Reason: "does not match the signed prune checkpoint"}
		}
	}
	return l, nil
}

// ReadExport reads a whole JSONL export with an ExportReader.
func ReadExport(r io.Reader) (*ExportLog, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), maxExportLine)
	var x ExportReader
	for sc.Scan() {
		if err := x.Line(sc.Bytes()); err != nil {
			return nil, err
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit: verify export: %w", err)
	}
	return x.Finish()
}
