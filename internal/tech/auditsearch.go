package tech

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"tether/internal/audit"
	"tether/internal/sanitize"
)

// AuditSearchOptions filters `tech audit search`; empty fields match all.
type AuditSearchOptions struct {
	// Since and Until bound the entry time (RFC 3339): at or after Since,
	// before Until.
	Since, Until string
	// Actor matches the actor's ID as recorded (a user or device ID).
	Actor string
	// Action matches the action; "session.*" matches every action that
	// starts with "session.".
	Action string
	// Device matches the target or a "device", "device_id" or
	// "device_name" detail.
	Device string
	// JSON prints a JSON array instead of a table.
	JSON bool
}

// auditEntry is one entry of an export, as `tech audit search --json`
// prints it.
type auditEntry struct {
	Seq     uint64            `json:"seq"`
	Time    time.Time         `json:"time"`
	ActorID string            `json:"actor_id"`
	Action  string            `json:"action"`
	Target  string            `json:"target"`
	Outcome string            `json:"outcome"`
	Source  string            `json:"source"`
	Details map[string]string `json:"details"`
}

// matches reports whether e passes the filters of o (until is parsed).
func (o *AuditSearchOptions) matches(e *auditEntry, until time.Time) bool {
	switch {
	case !until.IsZero() && !e.Time.Before(until):
		return false
	case o.Actor != "" && e.ActorID != o.Actor:
		return false
	case o.Action != "" && !matchAction(o.Action, e.Action):
		return false
	case o.Device != "" && e.Target != o.Device && e.Details["device"] != o.Device &&
		e.Details["device_id"] != o.Device && e.Details["device_name"] != o.Device:
		return false
	}
	return true
}

// matchAction matches an action exactly or, for "prefix.*", by prefix.
func matchAction(pattern, action string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(action, p)
	}
	return pattern == action
}

// AuditSearch fetches the relay's audit log (from Since on: the relay
// filters by time) and prints the entries matching the other filters,
// which tech applies. The export is checked as it is read, like `tech
// audit export`; a log that does not verify gives a warning.
func (c *Client) AuditSearch(ctx context.Context, o AuditSearchOptions) error {
	var until time.Time
	if o.Until != "" {
		t, err := time.Parse(time.RFC3339, o.Until)
		if err != nil {
			return fmt.Errorf("bad --until %q: use RFC 3339, e.g. 2026-01-31T00:00:00Z", o.Until)
		}
		until = t
	}
	body, err := c.openAuditExport(ctx, o.Since)
	if err != nil {
		return err
	}
	defer body.Close()
	found, err := searchExport(body, &o, until)
	if err != nil {
		return err
	}
	verr := found.verr
	if verr == nil {
		var x *audit.ExportLog
		if x, verr = found.x.Finish(); verr == nil {
			_, verr = c.checkAuditLog(x, nil, true)
		}
	}
	if verr != nil {
		fmt.Fprintf(c.Stderr, "tech: warning: the audit log does not verify: %v (see `tech audit verify`)\n", verr)
	}
	return c.printAuditEntries(found.entries, o.JSON)
}

// searchResult is what searchExport collected.
type searchResult struct {
	x       audit.ExportReader
	verr    error // the first line that failed verification
	entries []*auditEntry
}

// searchExport reads an export, checking it and keeping matching entries.
// A verification failure is kept in the result, not returned.
func searchExport(r io.Reader, o *AuditSearchOptions, until time.Time) (*searchResult, error) {
	res := &searchResult{}
	br := newLineReader(r)
	for {
		line, err := readLine(br)
		if line = bytes.TrimSuffix(line, []byte("\n")); len(line) > 0 {
			if res.verr == nil {
				res.verr = res.x.Line(line)
			}
			var e auditEntry
			if json.Unmarshal(line, &e) == nil && e.Action != "" && o.matches(&e, until) {
				res.entries = append(res.entries, &e)
			}
		}
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			return nil, fmt.Errorf("audit export: %w", err)
		}
	}
}

// printAuditEntries prints entries as a table or a JSON array.
func (c *Client) printAuditEntries(entries []*auditEntry, asJSON bool) error {
	if asJSON {
		if entries == nil {
			entries = []*auditEntry{}
		}
		return writeJSON(c.Stdout, entries)
	}
	tw := tabwriter.NewWriter(c.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTIME\tACTOR\tACTION\tTARGET\tOUTCOME")
	for _, e := range entries {
		row := strings.Join([]string{strconv.FormatUint(e.Seq, 10), e.Time.UTC().Format(time.RFC3339),
			e.ActorID, e.Action, e.Target, e.Outcome}, "\t")
		fmt.Fprintln(tw, sanitize.Cells(row, 0))
	}
	return tw.Flush()
}
