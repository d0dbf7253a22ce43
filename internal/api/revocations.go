package api

// TrustRevocations is the answer to GET /v1/trust/revocations: the newest
// signed revocation list (FORMAT.md of package trust), or none (null) when
// none has been published. PUT /v1/trust/revocations takes a TrustPublish
// and answers a TrustPolicyPublished (version, expiry, signers).
type TrustRevocations struct {
	Document []byte `json:"document"`
}
