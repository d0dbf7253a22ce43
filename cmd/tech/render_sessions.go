package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/sanitize"
)

// sessionRow is one element of `tech sessions list --json`, the shape
// docs/cli.md documents (the relay's api.Session carries more).
type sessionRow struct {
	ID           ids.SessionID `json:"id"`
	TechUser     string        `json:"tech_user"`
	DeviceName   string        `json:"device_name"`
	Mode         string        `json:"mode"`
	Capabilities []string      `json:"capabilities"`
	Granted      []string      `json:"granted"`
	State        string        `json:"state"`
	EndReason    string        `json:"end_reason"`
	CreatedAt    time.Time     `json:"created_at"`
	StartedAt    time.Time     `json:"started_at,omitzero"`
	EndedAt      time.Time     `json:"ended_at,omitzero"`
	Live         bool          `json:"live"`
	Duration     string        `json:"duration"`
	Reason       string        `json:"reason,omitempty"`
	RecordingID  ids.SessionID `json:"recording_id,omitempty"`
	RecState     string        `json:"recording_state,omitempty"`
	Path         string        `json:"path,omitempty"`
	PathWhy      string        `json:"path_why,omitempty"`
}

// newSessionRow is s as `tech sessions list --json` prints it.
func newSessionRow(s api.Session) sessionRow {
	return sessionRow{ID: s.ID, TechUser: s.TechUser, DeviceName: s.DeviceName, Mode: s.Mode, Capabilities: s.Capabilities,
		Granted: s.Granted, State: s.State, EndReason: s.EndReason, CreatedAt: s.CreatedAt, StartedAt: s.StartedAt,
		EndedAt: s.EndedAt, Live: s.Live, Duration: s.Duration, Reason: s.Reason, RecordingID: s.RecordingID, RecState: s.RecordingState,
		Path: s.Path, PathWhy: s.PathWhy}
}

// printSessions prints sessions as a table or JSON.
func printSessions(w io.Writer, ss []api.Session, asJSON bool) error {
	return printRows(w, ss, asJSON, "ID\tTECHNICIAN\tDEVICE\tSTATE\tSINCE\tCAPABILITIES", func(s api.Session) string {
		return fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", s.ID, sanitize.Display(s.TechUser, 40), sanitize.Display(s.DeviceName, 40),
			s.State, s.CreatedAt.Local().Format(time.DateTime), strings.Join(s.Capabilities, ","))
	}, newSessionRow)
}

// printSession prints a report on one session.
func printSession(w io.Writer, s api.Session) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, sanitize.Display(v, 0)) }
	row("Session", s.ID.String())
	row("Technician", sanitize.Display(s.TechUser, 60))
	row("Device", sanitize.Display(s.DeviceName, 60))
	row("Mode", s.Mode)
	row("State", s.State)
	row("Requested", s.CreatedAt.Local().Format(time.RFC3339))
	if !s.StartedAt.IsZero() {
		row("Started", s.StartedAt.Local().Format(time.RFC3339))
	}
	if !s.EndedAt.IsZero() {
		row("Ended", s.EndedAt.Local().Format(time.RFC3339))
	}
	row("Duration", s.Duration)
	row("End reason", sanitize.Display(s.EndReason, 200))
	row("Asked", strings.Join(s.Capabilities, ", "))
	row("Granted", strings.Join(s.Granted, ", "))
	if s.Reason != "" {
		row("Reason", sanitize.Display(s.Reason, 200))
	}
	if s.Path != "" {
		row("Path", s.Path+" ("+sanitize.Display(s.PathWhy, 200)+")")
	}
	if s.RecordingID != "" {
		row("Recording", sanitize.Display(s.RecordingID.String(), 64)+" ("+sanitize.Display(s.RecordingState, 32)+")")
	}
	return tw.Flush()
}
