package integration

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAttendedEndReasons: the relay records the reason an attended session
// actually ended with, whichever side ended it and however.
func TestAttendedEndReasons(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := []struct {
		name string
		argv []string
		// act ends the session once it runs.
		act  func(tech, agent *proc)
		want string
	}{
		{"command exits with status 5", []string{"sh", "-c", "exit 5"}, nil, "command exited with status 5"},
		{"command exits with status 0", []string{"true"}, nil, "command exited with status 0"},
		{"command exits with status 42", []string{"sh", "-c", "sleep 0.2; exit 42"}, nil, "command exited with status 42"},
		{"end user ends it", []string{"sleep", "30"}, func(_, agent *proc) { agent.cmd.Process.Signal(syscall.SIGINT) }, "ended by the end user"},
		{"technician disconnects", []string{"sleep", "30"}, func(tech, _ *proc) { tech.kill9() }, "technician disconnected"},
		{"agent killed", []string{"sleep", "30"}, func(_, agent *proc) { agent.kill9() }, "device disconnected"},
	}
	for i, tc := range cases { // sequential: one relay, one session at a time
		tech := start(t, e.dir, nil, bin.tech, append([]string{"--config", e.tech, "session", "new", "--"}, tc.argv...)...)
		code := joinCode(t, tech)
		agent := start(t, e.dir, nil, bin.agent, e.joinArgs(filepath.Join("attended", tc.name), code, e.url, "true")...)
		if tc.act != nil {
			eventually(t, tc.name+": the session to start", 15*time.Second, func() bool {
				return strings.Contains(tech.Output(), "Consent granted")
			})
			time.Sleep(300 * time.Millisecond) // let the command start
			tc.act(tech, agent)
		}
		var got struct {
			State     string `json:"state"`
			EndReason string `json:"end_reason"`
		}
		var all []json.RawMessage
		eventually(t, tc.name+": the session to end", 20*time.Second, func() bool {
			r := e.techRun("", "sessions", "list", "--json")
			if json.Unmarshal([]byte(r.stdout), &all) != nil || len(all) != i+1 {
				return false
			}
			json.Unmarshal(all[0], &got)
			return got.State == "ended"
		})
		if got.EndReason != tc.want {
			t.Errorf("%s: relay recorded end reason %q, want %q", tc.name, got.EndReason, tc.want)
		}
		<-tech.done
		<-agent.done
	}
}
