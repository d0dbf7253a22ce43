package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

// printAuditReport tells a person what was verified.
func printAuditReport(stderr io.Writer, rep *tech.AuditReport) {
	msg := fmt.Sprintf("audit log intact: %d entries verified", rep.Entries)
	if h := rep.Remembered; h != nil {
		msg += fmt.Sprintf("; it extends the head this client saw at entry %d (signed %s)", h.Seq, h.Time.UTC().Format("2006-01-02T15:04:05Z"))
	} else {
		msg += "; this client had seen no earlier head of this relay's log"
	}
	if rep.Checkpoints > 0 {
		msg += fmt.Sprintf("; %d administrator checkpoint(s) verified", rep.Checkpoints)
	}
	if rep.Root != nil {
		msg += fmt.Sprintf("; checkpoints by the administrators of trust root %s (version %d) checked", rep.Root.Fingerprint, rep.Root.Version)
	}
	fmt.Fprintln(stderr, msg)
	for _, u := range rep.Uncovered {
		fmt.Fprintf(stderr, "tech: warning: %s\n", u)
	}
}

// warnUnverified warns that an audit log read for what (export, audit
// log) does not verify; err is nil for one that does.
func warnUnverified(stderr io.Writer, what string, err error) {
	if err != nil {
		fmt.Fprintf(stderr, "tech: warning: the %s does not verify: %v (see `tech audit verify`)\n", what, err)
	}
}

// printAuditEntries prints entries as a table or a JSON array.
func printAuditEntries(w io.Writer, entries []*tech.AuditEntry, asJSON bool) error {
	if asJSON {
		if entries == nil {
			entries = []*tech.AuditEntry{}
		}
		return writeJSON(w, entries)
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tTARGET\tOUTCOME")
	for _, e := range entries {
		row := strings.Join([]string{strconv.FormatUint(e.Seq, 10), e.Time.UTC().Format(time.RFC3339),
			e.ActorID, e.Action, e.Target, e.Outcome}, "\t")
		fmt.Fprintln(tw, sanitize.Cells(row, 0))
	}
	return tw.Flush()
}
