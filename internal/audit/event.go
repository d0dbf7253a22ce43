package audit

// NewEvent builds an event; kv are detail key/value pairs (an odd last
// key is dropped).
func NewEvent(actor, action, target, outcome, source string, kv ...string) Event {
	e := Event{ActorID: actor, Action: action, Target: target, Outcome: outcome, Source: source}
	if len(kv) > 1 {
		e.Details = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			e.Details[kv[i]] = kv[i+1]
		}
	}
	return e
}
