package tech

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tether-support/tether/internal/api"
)

// PolicyChange is one setting that differs between two policies; Old or
// New is absent ("", false) when the setting exists on one side only.
type PolicyChange struct {
	Setting        string
	Old, New       string
	HasOld, HasNew bool
}

// PolicyDiff lists, sorted by setting, what differs from cur (nil: no
// policy yet) to next. Values are raw text from the relay or a file;
// whoever shows them sanitizes them.
func PolicyDiff(cur *api.PolicyDraft, next api.PolicyDraft) []PolicyChange {
	old := map[string]string{}
	if cur != nil {
		old = policyLines(*cur)
	}
	nw := policyLines(next)
	var out []PolicyChange
	for _, k := range sortedKeys(old, nw) {
		o, ho := old[k]
		n, hn := nw[k]
		if ho == hn && o == n {
			continue
		}
		out = append(out, PolicyChange{Setting: k, Old: o, New: n, HasOld: ho, HasNew: hn})
	}
	return out
}

// policyLines is a policy as setting name → value text.
func policyLines(d api.PolicyDraft) map[string]string {
	m := map[string]string{
		"recipients":        strings.Join(sortedSet(d.Recipients), " "),
		"record_input":      fmt.Sprint(d.RecordInput),
		"unattended_groups": strings.Join(sortedSet(d.UnattendedGroups), " "),
		"idle_seconds":      fmt.Sprint(d.IdleSeconds),
		"absolute_seconds":  fmt.Sprint(d.AbsoluteSeconds),
		"direct_path":       fmt.Sprint(d.DirectPath),
	}
	for role, caps := range d.Ceilings {
		m["ceiling "+role] = strings.Join(sortedSet(caps), " ")
	}
	return m
}

// sortedKeys is the union of both maps' keys, sorted.
func sortedKeys(a, b map[string]string) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}
