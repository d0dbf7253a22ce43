package tech

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/tether-support/tether/internal/audit"
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
	// Outcome matches the outcome exactly ("success", "failure",
	// "denied", "granted", ...).
	Outcome string
	// Max bounds how many entries a search on the relay returns (0: no
	// bound); the verified search reads the whole export either way.
	Max int
}

// AuditEntry is one entry of an export, as `tech audit search --json`
// prints it; its strings are the relay's, raw.
type AuditEntry struct {
	Seq     uint64            `json:"seq"`
	Time    time.Time         `json:"time"`
	ActorID string            `json:"actor_id"`
	Action  string            `json:"action"`
	Target  string            `json:"target"`
	Outcome string            `json:"outcome"`
	Source  string            `json:"source"`
	Details map[string]string `json:"details"`
}

// matches reports whether e passes the filters of o (until is parsed;
// the relay already applied Since).
func (o *AuditSearchOptions) matches(e *AuditEntry, until time.Time) bool {
	f := audit.Filter{Until: until, Action: o.Action, Device: o.Device, Outcome: o.Outcome}
	if o.Actor != "" {
		f.Actors = []string{o.Actor}
	}
	return f.Match(e.Time, &audit.Event{ActorID: e.ActorID, Action: e.Action, Target: e.Target,
		Outcome: e.Outcome, Details: e.Details})
}

// AuditFound is what AuditSearch found.
type AuditFound struct {
	// Entries are the matching entries, as the relay sent them (raw).
	Entries []*AuditEntry
	// Unverified is why the log does not verify, or nil.
	Unverified error
}

// AuditSearchVerified fetches the relay's audit log (from Since on: the relay
// filters by time) and returns the entries matching the other filters,
// which tech applies. The export is checked as it is read, like `tech
// audit export`; a log that does not verify is reported in Unverified.
func (c *Client) AuditSearchVerified(ctx context.Context, o AuditSearchOptions) (AuditFound, error) {
	var until time.Time
	if o.Until != "" {
		t, err := time.Parse(time.RFC3339, o.Until)
		if err != nil {
			return AuditFound{}, fmt.Errorf("bad --until %q: use RFC 3339, e.g. 2026-01-31T00:00:00Z", o.Until)
		}
		until = t
	}
	body, err := c.openAuditExport(ctx, o.Since)
	if err != nil {
		return AuditFound{}, err
	}
	defer body.Close()
	found, err := searchExport(body, &o, until)
	if err != nil {
		return AuditFound{}, err
	}
	verr := found.verr
	if verr == nil {
		var x *audit.ExportLog
		if x, verr = found.x.Finish(); verr == nil {
			_, verr = c.checkAuditLog(x, checkpointKeys{}, true)
		}
	}
	return AuditFound{Entries: found.entries, Unverified: verr}, nil
}

// searchResult is what searchExport collected.
type searchResult struct {
	x       audit.ExportReader
	verr    error // the first line that failed verification
	entries []*AuditEntry
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
			var e AuditEntry
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
