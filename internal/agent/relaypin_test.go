package agent

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
)

func TestAgentNextPin(t *testing.T) {
	cur := "SHA256:" + strings.Repeat("ab", 32)
	next := "SHA256:" + strings.Repeat("cd", 32)
	tests := []struct {
		name, announced string
		wantErr         bool
		wantNext        string
	}{
		{"valid", next, false, next},
		{"current again", cur, false, ""},
		{"malformed", "SHA256:zz", true, ""},
		{"not canonical", strings.ToUpper(next), true, ""},
		{"empty", "", true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			a := &Agent{cfg: Config{Home: home, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, st: &State{Pin: cur}}
			err := a.learnNextPin(tt.announced)
			if (err != nil) != tt.wantErr {
				t.Fatalf("learnNextPin(%q) = %v, want error %v", tt.announced, err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "malformed next certificate pin") {
				t.Errorf("error %q does not say the announcement was malformed", err)
			}
			st, rerr := stateFile(home)
			if tt.wantNext == "" {
				if rerr == nil && st.NextPin != "" {
					t.Errorf("stored next pin %q, want none", st.NextPin)
				}
				return
			}
			if rerr != nil || st.Pin != cur || st.NextPin != tt.wantNext {
				t.Fatalf("stored %+v (%v), want pin %s and next %s", st, rerr, cur, tt.wantNext)
			}
			a.nextPinInUse(next)
			if st, _ := stateFile(home); st.Pin != next || st.NextPin != "" {
				t.Errorf("after the next key was seen: stored %+v, want pin %s and no next", st, next)
			}
		})
	}
}

// stateFile reads agent.json alone.
func stateFile(home string) (*State, error) {
	b, err := os.ReadFile(statePath(home))
	if err != nil {
		return nil, err
	}
	var st State
	return &st, json.Unmarshal(b, &st)
}
