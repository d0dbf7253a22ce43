package x11ui

import "sync"

// shield tracks the end user's windows open in this process, so injected
// input can be kept off them.
var shield struct {
	mu      sync.Mutex
	prompts int
	bars    map[*surface]struct{}
}

// PromptOpen reports whether a desktop consent window is open in this
// process. The agent drops the technician's injected input (keys and
// pointer) meanwhile: whoever controls the screen must not answer the end
// user's question for them.
func PromptOpen() bool {
	shield.mu.Lock()
	defer shield.mu.Unlock()
	return shield.prompts > 0
}

// Shielded reports whether injected pointer input at x, y (screen
// pixels) must be dropped: a consent window is open, or x, y is on an
// indicator (whose Resume button would otherwise let a controlling
// technician undo the end user's Pause).
func Shielded(x, y int) bool {
	shield.mu.Lock()
	defer shield.mu.Unlock()
	if shield.prompts > 0 {
		return true
	}
	for s := range shield.bars {
		r := s.bounds()
		if x >= r.X && y >= r.Y && x < r.X+r.W && y < r.Y+r.H {
			return true
		}
	}
	return false
}

// shieldPrompt counts a consent window in (+1) or out (-1).
func shieldPrompt(delta int) {
	shield.mu.Lock()
	shield.prompts += delta
	shield.mu.Unlock()
}

// shieldBar adds or removes an indicator.
func shieldBar(s *surface, on bool) {
	shield.mu.Lock()
	defer shield.mu.Unlock()
	if shield.bars == nil {
		shield.bars = map[*surface]struct{}{}
	}
	if on {
		shield.bars[s] = struct{}{}
	} else {
		delete(shield.bars, s)
	}
}
