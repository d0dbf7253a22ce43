package trust

import (
	"crypto/sha256"
	"fmt"
)

// TechCertBody certifies a technician's key. Validity is the document's
// issue time up to its expiry.
type TechCertBody struct {
	// Name is the technician's display name.
	Name string
	// Username is the technician's login name on the relay.
	Username string
	// Org is the organisation that certifies them.
	Org string
	// Capabilities are the most the technician may ask for, sorted and unique.
	Capabilities []string
	// DeviceGroups are the device groups they may reach, sorted and unique.
	DeviceGroups []string
	// Key is the technician's hybrid public key.
	Key *PublicKey
}

// Kind is KindTechCert.
func (*TechCertBody) Kind() Kind { return KindTechCert }

func (c *TechCertBody) encode(w *writer) error {
	for _, f := range []struct{ name, v string }{{"name", c.Name}, {"username", c.Username}, {"organisation", c.Org}} {
		if err := writeString(w, f.name, f.v); err != nil {
			return err
		}
	}
	if err := writeStrings(w, "capabilities", c.Capabilities); err != nil {
		return err
	}
	if err := writeStrings(w, "device groups", c.DeviceGroups); err != nil {
		return err
	}
	if c.Key == nil {
		return fmt.Errorf("no technician key")
	}
	w.raw(c.Key.Bytes())
	return nil
}

func readTechCert(r *reader) *TechCertBody {
	c := &TechCertBody{Name: r.str("name"), Username: r.str("username"), Org: r.str("organisation")}
	c.Capabilities = r.strs("capabilities")
	c.DeviceGroups = r.strs("device groups")
	raw := r.take(PublicKeySize)
	if r.err == nil {
		k, err := ParsePublicKey(raw)
		if err != nil {
			r.fail(fmt.Errorf("technician key: %w", err))
		}
		c.Key = k
	}
	return c
}

// CertID names a technician certificate for revocation: SHA-256 over the
// document's signed bytes, so it does not depend on who signed it.
func CertID(d *Document) KeyID { return sha256.Sum256(d.SignedBytes()) }
