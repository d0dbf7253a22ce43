package tech

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/api"
)

func TestPolicyBodyOf(t *testing.T) {
	t.Parallel()
	good := func() api.PolicyDraft {
		return api.PolicyDraft{Recipients: []string{"tether-rec1b", "tether-rec1a", "tether-rec1a"}, RecordInput: true,
			Ceilings:         map[string][]string{"technician": {"shell", "files"}, "auditor": {}},
			UnattendedGroups: []string{"servers"}, IdleSeconds: 900, AbsoluteSeconds: 3600, DirectPath: true}
	}
	tests := []struct {
		name    string
		edit    func(*api.PolicyDraft)
		wantErr string
	}{
		{name: "sorted and deduplicated"},
		{name: "no idle limit", edit: func(d *api.PolicyDraft) { d.IdleSeconds = 0 }, wantErr: "must be positive"},
		{name: "unknown capability", edit: func(d *api.PolicyDraft) { d.Ceilings["x"] = []string{"root"} }, wantErr: `unknown capability "root"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := good()
			if tc.edit != nil {
				tc.edit(&d)
			}
			b, err := PolicyBodyOf(d)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v; want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b.Ceilings[0].Role != "auditor" || b.Recipients[0] != "tether-rec1a" || len(b.Recipients) != 2 {
				t.Errorf("body %+v not sorted and unique", b)
			}
			back := PolicyDraftOf(b)
			want := good()
			want.Recipients = []string{"tether-rec1a", "tether-rec1b"}
			want.Ceilings["technician"] = []string{"files", "shell"}
			if !reflect.DeepEqual(back, want) {
				t.Errorf("round trip %+v, want %+v", back, want)
			}
		})
	}
}

func TestPolicyDiff(t *testing.T) {
	t.Parallel()
	cur := &api.PolicyDraft{Recipients: []string{"a"}, IdleSeconds: 900, AbsoluteSeconds: 3600, Ceilings: map[string][]string{"technician": {"shell"}}}
	next := *cur
	next.IdleSeconds, next.Ceilings = 600, map[string][]string{"technician": {"shell"}, "admin": {"files"}}
	got := PolicyDiff(cur, next)
	want := []PolicyChange{
		{Setting: "ceiling admin", New: "files", HasNew: true},
		{Setting: "idle_seconds", Old: "900", New: "600", HasOld: true, HasNew: true},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("diff %+v, want %+v", got, want)
	}
	if first := PolicyDiff(nil, next); len(first) != 8 {
		t.Errorf("diff from no policy lists %d settings, want all 8: %+v", len(first), first)
	}
}
