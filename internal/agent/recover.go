package agent

import (
	"fmt"
	"os"

	"github.com/tether-support/tether/internal/sanitize"
)

// recoverLocks locks the screen, once, if an earlier agent left sessions
// unfinished (killed, crashed, the machine lost power), and tells the end
// user. With keep, the markers stay, holding the result, until
// reportRecovered tells the relay; they are returned, with those already
// locked by an earlier start but not yet reported. Without keep (agent
// join, which has no relay identity to report with) they are removed.
func recoverLocks(cfg Config, ui EndUser, keep bool) []staleMarker {
	stale, err := staleMarkers(cfg.Home)
	if err != nil {
		cfg.Logger.Error("cannot read the lock journal", "err", err)
	}
	var todo []*staleMarker
	for i := range stale {
		if stale[i].p.Result == "" {
			todo = append(todo, &stale[i])
		}
	}
	if len(todo) > 0 {
		r := lockScreen(cfg, cfg.Logger)
		for _, m := range todo {
			cfg.Logger.Warn("a session was left unfinished by an earlier run of the agent; screen lock done now",
				"session", m.p.Session, "result", r.String())
			tech := m.p.Tech
			if tech == "" {
				tech = "unknown"
			}
			ui.Notice(fmt.Sprintf("A support session (%s, technician %s) was still open when the agent stopped.",
				sanitize.Display(m.p.Session.String(), 40), sanitize.Display(tech, 40)))
			if err := m.saveResult(r.String(), r.Err == nil); err != nil {
				cfg.Logger.Error("cannot record the lock result", "err", err)
			}
		}
		ui.LockResult(r)
	}
	if keep {
		return stale
	}
	for _, m := range stale {
		os.Remove(m.path)
	}
	return nil
}
