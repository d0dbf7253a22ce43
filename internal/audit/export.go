package audit

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/store"
)

// Export formats.
const (
	// FormatJSONL is one JSON object per line; VerifyExport checks it.
	FormatJSONL = "jsonl"
	// FormatCSV is a header row then one row per entry, for spreadsheets.
	FormatCSV = "csv"
)

// maxExportLine bounds one line of a JSONL export read by VerifyExport.
const maxExportLine = 1 << 20

// exported is one entry as written by Export; Prev and Hash are hex.
type exported struct {
	Seq     uint64            `json:"seq"`
	Time    time.Time         `json:"time"`
	ActorID string            `json:"actor_id"`
	Action  string            `json:"action"`
	Target  string            `json:"target"`
	Outcome string            `json:"outcome"`
	Source  string            `json:"source"`
	Details map[string]string `json:"details"`
	Prev    string            `json:"prev"`
	Hash    string            `json:"hash"`
}

func toExported(r *store.AuditRecord) *exported {
	return &exported{
		Seq: r.Seq, Time: r.Time.UTC(), ActorID: r.ActorID, Action: r.Action, Target: r.Target,
		Outcome: r.Outcome, Source: r.Source, Details: r.Details,
		Prev: hex.EncodeToString(r.Prev), Hash: hex.EncodeToString(r.Hash),
	}
}

// Export writes the entries with Time at or after since (all entries if
// since is zero) to w in format FormatJSONL or FormatCSV. MACs are not
// exported. JSONL escapes every control, C1 and invisible character
// (sanitize.EscapeJSON), so a line means the same and verifies, but shows
// no escape sequence on a terminal. In CSV, details are a JSON object and
// every cell goes through sanitize.CSVCell: controls and escape sequences
// are shown as markers, and a cell that a spreadsheet would run as a formula
// (starting with = + - or @) is prefixed with a single quote; use JSONL for
// anything that must verify.
func Export(db Store, w io.Writer, format string, since time.Time) error {
	var write func(*exported) error
	var flush func() error
	switch format {
	case FormatJSONL:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		write = func(e *exported) error {
			buf.Reset()
			if err := enc.Encode(e); err != nil {
				return err
			}
			_, err := w.Write(sanitize.EscapeJSON(buf.Bytes()))
			return err
		}
		flush = func() error { return nil }
	case FormatCSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(csvHeader); err != nil {
			return fmt.Errorf("audit: export: %w", err)
		}
		write = func(e *exported) error { return cw.Write(csvRow(e)) }
		flush = func() error { cw.Flush(); return cw.Error() }
	default:
		return fmt.Errorf("audit: export: unknown format %q (want %s or %s)", format, FormatJSONL, FormatCSV)
	}
	err := db.AuditRecords(0, func(r *store.AuditRecord) error {
		if r.Time.Before(since) {
			return nil
		}
		return write(toExported(r))
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return fmt.Errorf("audit: export: %w", err)
	}
	return nil
}

var csvHeader = []string{"seq", "time", "actor_id", "action", "target", "outcome", "source", "details", "prev", "hash"}

// csvRow returns the CSV cells of e.
func csvRow(e *exported) []string {
	details := ""
	if len(e.Details) > 0 {
		b, _ := json.Marshal(e.Details) // map[string]string always encodes; keys sorted
		details = string(b)
	}
	row := []string{strconv.FormatUint(e.Seq, 10), e.Time.Format(time.RFC3339Nano),
		e.ActorID, e.Action, e.Target, e.Outcome, e.Source, details, e.Prev, e.Hash}
	for i, c := range row {
		row[i] = sanitize.CSVCell(c)
	}
	return row
}

// VerifyExport checks a JSONL export: each line's hash is right and links to
// the line before, and sequence numbers are contiguous. The first line may
// start anywhere in the chain. Trailer lines (WriteTrailer), when present,
// must follow the entries; a signed head among them must verify under the
// head key it comes with and be in the chain. It needs no key of its own,
// so it shows only that the export is internally consistent, not who wrote
// it: ReadExport and ExportLog.Extends check it against remembered heads.
// It returns nil, a *VerifyError naming the first bad entry, or a read error.
func VerifyExport(r io.Reader) error {
	_, err := ReadExport(r)
	return err
}

// parseExported decodes one JSONL line into a record.
func parseExported(line []byte) (*store.AuditRecord, error) {
	var e exported
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		return nil, errors.New("undecodable line")
	}
	if dec.More() {
		return nil, errors.New("trailing data on line")
	}
	prev, err1 := hex.DecodeString(e.Prev)
	hash, err2 := hex.DecodeString(e.Hash)
	if err1 != nil || err2 != nil || len(prev) != 32 || len(hash) != 32 {
		return nil, errors.New("prev or hash is not 32 bytes of hex")
	}
	return &store.AuditRecord{
		Seq: e.Seq, Time: e.Time, ActorID: e.ActorID, Action: e.Action, Target: e.Target,
		Outcome: e.Outcome, Source: e.Source, Details: e.Details, Prev: prev, Hash: hash,
	}, nil
}

// checkExported checks r's hash and its link to the previous record.
func checkExported(r, last *store.AuditRecord) *VerifyError {
	if last != nil {
		if r.Seq != last.Seq+1 {
			return &VerifyError{Seq: last.Seq + 1, Reason: "missing"}
		}
		if !bytes.Equal(r.Prev, last.Hash) {
			return &VerifyError{Seq: r.Seq, Reason: "does not link to the previous entry"}
		}
	}
	if !bytes.Equal(entryHash(r), r.Hash) {
		return &VerifyError{Seq: r.Seq, Reason: "hash mismatch"}
	}
	return nil
}
