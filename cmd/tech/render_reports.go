package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/sanitize"
)

// reportStart is when a session started, or "-" if it never did.
func reportStart(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// printReport prints the session report as a table, then the files moved.
func printReport(w io.Writer, ss []api.SessionReport) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tSTART\tDURATION\tTECHNICIAN\tDEVICE\tGRANTED\tFILES\tEND REASON\tRECORDING")
	files := 0
	for _, s := range ss {
		row := strings.Join([]string{s.ID.String(), reportStart(s.StartedAt), (time.Duration(s.DurationSeconds) * time.Second).String(),
			sanitize.Display(s.TechUser, 40), sanitize.Display(s.DeviceName, 40), strings.Join(s.Granted, ","),
			strconv.FormatInt(int64(len(s.Files))+s.FilesDropped, 10), sanitize.Display(s.EndReason, 80), s.RecordingID.String()}, "\t")
		fmt.Fprintln(tw, sanitize.Cells(row, 0))
		files += len(s.Files)
	}
	if err := tw.Flush(); err != nil || files == 0 {
		return err
	}
	fmt.Fprintln(w, "\nFiles moved:")
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tTIME\tDIRECTION\tBYTES\tSHA256\tPATH")
	for _, s := range ss {
		for _, f := range s.Files {
			row := strings.Join([]string{s.ID.String(), f.Time.UTC().Format(time.RFC3339), f.Direction,
				strconv.FormatInt(f.Size, 10), f.SHA256, f.Path}, "\t")
			fmt.Fprintln(tw, sanitize.Cells(row, 0))
		}
	}
	return tw.Flush()
}

// reportCSVHeader names the columns of `tech reports sessions --csv`.
var reportCSVHeader = []string{"session_id", "technician", "technician_id", "device", "device_id", "mode", "reason",
	"requested_at", "started_at", "ended_at", "duration_seconds", "capabilities_requested", "capabilities_granted",
	"end_reason", "recording_id", "recording_state", "file_count", "files"}

// printReportCSV writes the report as CSV, one row per session; every
// cell is inert (sanitize.CSVCell). The files cell holds one line per
// file, "DIRECTION BYTES SHA256 PATH", each part made inert on its own.
func printReportCSV(w io.Writer, ss []api.SessionReport) error {
	cw := csv.NewWriter(w)
	cw.Write(reportCSVHeader)
	for _, s := range ss {
		cw.Write(reportCSVRow(&s))
	}
	cw.Flush()
	return cw.Error()
}

// reportCSVRow is one session's CSV row.
func reportCSVRow(s *api.SessionReport) []string {
	t := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	files := make([]string, len(s.Files))
	for i, f := range s.Files {
		files[i] = strings.Join([]string{sanitize.CSVCell(f.Direction), strconv.FormatInt(f.Size, 10),
			sanitize.CSVCell(f.SHA256), sanitize.CSVCell(f.Path)}, " ")
	}
	row := []string{s.ID.String(), s.TechUser, string(s.TechID), s.DeviceName, string(s.DeviceID), s.Mode, s.Reason,
		t(s.CreatedAt), t(s.StartedAt), t(s.EndedAt), strconv.FormatInt(s.DurationSeconds, 10),
		strings.Join(s.Capabilities, ","), strings.Join(s.Granted, ","), s.EndReason, s.RecordingID.String(), s.RecordingState,
		strconv.FormatInt(int64(len(s.Files))+s.FilesDropped, 10)}
	for i, c := range row {
		row[i] = sanitize.CSVCell(c)
	}
	return append(row, strings.Join(files, "\n"))
}
