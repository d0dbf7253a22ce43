package audit

import "github.com/tether-support/tether/internal/ids"

// NewEvent builds an event; kv are detail key/value pairs (an odd last
// key is dropped).
func NewEvent[T ~string](actor ids.UserID, action string, target T, outcome, source string, kv ...string) Event {
	e := Event{ActorID: string(actor), Action: action, Target: string(target), Outcome: outcome, Source: source}
	if len(kv) > 1 {
		e.Details = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			e.Details[kv[i]] = kv[i+1]
		}
	}
	return e
}
