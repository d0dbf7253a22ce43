package main

import (
	"fmt"
	"io"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

// printRecipients prints reviewer keys as a table or JSON.
func printRecipients(w io.Writer, rs []api.Recipient, asJSON bool) error {
	return printList(w, rs, asJSON, "KEY ID\tADDED\tPUBLIC KEY", func(r api.Recipient) string {
		return fmt.Sprintf("%s\t%s\t%s", r.KeyID, r.AddedAt.Local().Format(time.DateTime), r.Key)
	})
}

// recordingRow is one element of `tech recordings list --json`, the shape
// docs/cli.md documents (the relay's api.Recording carries more).
type recordingRow struct {
	ID         ids.SessionID `json:"id"`
	TechUser   string        `json:"tech_user"`
	DeviceName string        `json:"device_name"`
	State      string        `json:"state"`
	Size       int64         `json:"size"`
	SHA256     string        `json:"sha256"`
	KeyIDs     []string      `json:"key_ids"`
	CreatedAt  time.Time     `json:"created_at"`
	FinishedAt time.Time     `json:"finished_at,omitzero"`
	// Hold is set while the recording is on legal hold.
	Hold *api.Hold `json:"hold,omitempty"`
}

// newRecordingRow is r as `tech recordings list --json` prints it.
func newRecordingRow(r api.Recording) recordingRow {
	return recordingRow{ID: r.ID, TechUser: r.TechUser, DeviceName: r.DeviceName, State: r.State, Size: r.Size,
		SHA256: r.SHA256, KeyIDs: r.KeyIDs, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt, Hold: r.Hold}
}

// printRecordings prints recordings as a table or JSON.
func printRecordings(w io.Writer, rs []api.Recording, asJSON bool) error {
	return printRows(w, rs, asJSON, "ID\tTECHNICIAN\tDEVICE\tSTATE\tSIZE\tSTARTED\tHOLD", func(r api.Recording) string {
		return fmt.Sprintf("%s\t%s\t%s\t%s\t%d\t%s\t%s", r.ID, sanitize.Display(r.TechUser, 40), sanitize.Display(r.DeviceName, 40),
			r.State, r.Size, r.CreatedAt.Local().Format(time.DateTime), holdCell(r.Hold))
	}, newRecordingRow)
}

// holdCell is a recording's hold as the table shows it: "-" for none,
// else who placed it and why.
func holdCell(h *api.Hold) string {
	if h == nil {
		return "-"
	}
	who := h.ByName
	if who == "" {
		who = string(h.By)
	}
	cell := "held by " + sanitize.Display(who, 40)
	if h.Reason != "" {
		cell += ": " + sanitize.Display(h.Reason, 60)
	}
	return cell
}

// printVerified reports a recording that decrypts and parses.
func printVerified(stdout io.Writer, id string, v tech.RecordingCheck) {
	fmt.Fprintf(stdout, "recording %s verified: %d bytes, %d events, %s\n", id, v.Bytes, v.Events, sanitize.Display(v.State, 32))
}

// printExported reports an export, warning if the recording was cut short.
func printExported(stderr io.Writer, id, out string, e tech.Exported) {
	if e.Incomplete {
		fmt.Fprintf(stderr, "tech: warning: recording %s is incomplete; exported the %d bytes before the cut\n", id, e.Bytes)
		return
	}
	fmt.Fprintf(stderr, "Exported %d bytes of asciicast v2 to %s.\n", e.Bytes, out)
}

// printExportedFrame reports a PNG export, warning if the recording was cut
// short.
func printExportedFrame(stderr io.Writer, id, out string, e tech.Exported) {
	fmt.Fprintf(stderr, "Wrote the %dx%d screen of recording %s at %s to %s (%d bytes).\n", e.Width, e.Height,
		sanitize.Display(id, 64), e.At.Round(time.Millisecond), sanitize.Display(out, 256), e.Bytes)
	if e.Incomplete {
		fmt.Fprintf(stderr, "tech: warning: recording %s is incomplete (cut short); nothing after the cut was exported\n", sanitize.Display(id, 64))
	}
}
