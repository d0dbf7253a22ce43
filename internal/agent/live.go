package agent

import (
	"sync"

	"github.com/tether-support/tether/internal/ids"
)

// liveSessions is the registry of the sessions running now: the end user's
// "end" and "revoke" reach them through it, and a new session finds the
// parent whose consent it would reuse. Safe for concurrent use.
type liveSessions struct {
	mu  sync.Mutex
	set map[*deviceSession]bool
}

func newLiveSessions() *liveSessions {
	return &liveSessions{set: make(map[*deviceSession]bool)}
}

// add registers s as live.
func (l *liveSessions) add(s *deviceSession) {
	l.mu.Lock()
	l.set[s] = true
	l.mu.Unlock()
}

// remove unregisters s and reports whether it was live.
func (l *liveSessions) remove(s *deviceSession) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	had := l.set[s]
	delete(l.set, s)
	return had
}

// find returns the live session with this ID, or nil.
func (l *liveSessions) find(id ids.SessionID) *deviceSession {
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := range l.set {
		if s.info.ID == id {
			return s
		}
	}
	return nil
}

// all returns the sessions currently live.
func (l *liveSessions) all() []*deviceSession {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*deviceSession, 0, len(l.set))
	for s := range l.set {
		out = append(out, s)
	}
	return out
}

// views returns what the end user is shown of each live session.
func (l *liveSessions) views() []SessionView {
	live := l.all()
	out := make([]SessionView, 0, len(live))
	for _, s := range live {
		out = append(out, s.view())
	}
	return out
}

// endAll ends every live session at the end user's word and returns how
// many there were.
func (l *liveSessions) endAll() int {
	live := l.all()
	for _, s := range live {
		// At once and side by side: no session waits for another's
		// goodbye to the relay, and the end user's interface stays
		// responsive.
		go s.end("ended by the end user")
	}
	return len(live)
}

// revoke takes caps (known capability names) from every live session. It
// reports whether any session had one of them, and what each session had
// granted before.
func (l *liveSessions) revoke(caps []string) (matched bool, granted [][]string) {
	live := l.all()
	granted = make([][]string, 0, len(live))
	for _, s := range live {
		granted = append(granted, s.grantedCaps())
	}
	for _, s := range live {
		if s.revoke(caps) {
			matched = true
		}
	}
	return matched, granted
}
