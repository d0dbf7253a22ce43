package api

// Error is the body of every answer other than 200 OK: what went wrong
// and, if the relay has one, a hint on what to do about it.
type Error struct {
	Error string `json:"error"`
	Hint  string `json:"hint"`
}

// Status is the answer of routes that report only that they did it, such
// as GET /healthz ("ok"), POST /v1/logout ("signed out"), POST /v1/passwd
// ("password changed"), POST /v1/mfa/disable and DELETE /v1/roles/{name}
// ("deleted").
type Status struct {
	Status string `json:"status"`
}

// Empty is what a client sends to a POST route that reads no body (its
// Route has no Request type): "{}".
type Empty struct{}
