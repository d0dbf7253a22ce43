package api

import "time"

// TechKey is the body of PUT /v1/trust/tech-key: the signed-in
// technician's hybrid public key (canonical encoding, package trust).
type TechKey struct {
	Key []byte `json:"key"`
}

// TechCert is the answer to GET /v1/trust/cert: the signed-in
// technician's certificate, a signed document.
type TechCert struct {
	Document []byte `json:"document"`
}

// CertifyFacts is the answer to GET /v1/trust/certs/{name}: what an
// administrator certifies for that technician. The administrator's tech
// builds and signs the certificate from it; the relay cannot forge one.
type CertifyFacts struct {
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
	// Orgs are the organisations the user is a member of.
	Orgs []string `json:"orgs"`
	// Capabilities are the session capabilities the user's roles allow.
	Capabilities []string `json:"capabilities"`
	// DeviceGroups limit the user's unattended sessions; empty is none.
	DeviceGroups []string `json:"device_groups"`
	// Key is the technician's public key as they uploaded it.
	Key []byte `json:"key"`
	// Cert is the newest certificate stored for them, unverified; absent
	// when none was issued (`tech trust revoke --user` revokes it).
	Cert []byte `json:"cert,omitempty"`
}

// TechCertStored is the answer to PUT /v1/trust/certs/{name}.
type TechCertStored struct {
	Username string    `json:"username"`
	CertID   string    `json:"cert_id"`
	Expiry   time.Time `json:"expiry"`
}
