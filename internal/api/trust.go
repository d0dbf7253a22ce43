package api

// TrustChain is the answer to GET /v1/trust/root: the organisation's root
// and every root change after it, oldest first, each a signed document in
// its canonical encoding (FORMAT.md of package trust). Empty when no root
// has been published.
type TrustChain struct {
	Documents [][]byte `json:"documents"`
}

// TrustPublish is the body of PUT /v1/trust/root: a root (when none exists
// yet) or a root change signed by the current root's threshold.
type TrustPublish struct {
	Document []byte `json:"document"`
}

// TrustPublished is the answer to PUT /v1/trust/root: the newest root.
type TrustPublished struct {
	Fingerprint string `json:"fingerprint"`
	Version     uint64 `json:"version"`
	Threshold   int    `json:"threshold"`
	Admins      int    `json:"admins"`
}
