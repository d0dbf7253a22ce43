package audit

import (
	"slices"
	"strings"
	"time"
)

// Filter selects audit entries, as the relay's audit search and `tech
// audit search` apply it; empty fields match all.
type Filter struct {
	// Since and Until bound the entry time: at or after Since, before Until.
	Since, Until time.Time
	// Actors are the actor IDs that match (nil: any).
	Actors []string
	// Action matches exactly or, for "prefix.*", by prefix.
	Action string
	// Device matches the target or a "device", "device_id" or
	// "device_name" detail.
	Device string
	// Outcome matches exactly.
	Outcome string
}

// Match reports whether the entry e, recorded at t, passes f.
func (f *Filter) Match(t time.Time, e *Event) bool {
	switch {
	case !f.Since.IsZero() && t.Before(f.Since):
		return false
	case !f.Until.IsZero() && !t.Before(f.Until):
		return false
	case f.Actors != nil && !slices.Contains(f.Actors, e.ActorID):
		return false
	case f.Action != "" && !MatchAction(f.Action, e.Action):
		return false
	case f.Outcome != "" && e.Outcome != f.Outcome:
		return false
	case f.Device != "" && e.Target != f.Device && e.Details["device"] != f.Device &&
		e.Details["device_id"] != f.Device && e.Details["device_name"] != f.Device:
		return false
	}
	return true
}

// MatchAction matches an action exactly or, for "prefix.*", by prefix.
func MatchAction(pattern, action string) bool {
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(action, p)
	}
	return pattern == action
}
