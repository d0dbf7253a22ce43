package trust

import "fmt"

// Kind says what a document is; it selects the body layout and the
// signature label.
type Kind uint8

// The document kinds (FORMAT.md §4). Their numbers never change.
const (
	// KindRoot is the organisation's root: administrator keys and threshold.
	KindRoot Kind = 1
	// KindRootChange replaces the root; the current threshold signs it.
	KindRootChange Kind = 2
	// KindPolicy is the signed session policy agents act on.
	KindPolicy Kind = 3
	// KindRevocation lists revoked certificates and keys.
	KindRevocation Kind = 4
	// KindTechCert certifies a technician's key.
	KindTechCert Kind = 5
)

var kindNames = map[Kind]string{
	KindRoot:       "root",
	KindRootChange: "root-change",
	KindPolicy:     "policy",
	KindRevocation: "revocation",
	KindTechCert:   "tech-cert",
}

// String is the kind's name, which is also its signature label.
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// known reports whether k is a defined kind.
func (k Kind) known() bool { _, ok := kindNames[k]; return ok }

// needsExpiry reports whether documents of kind k must carry an expiry.
func (k Kind) needsExpiry() bool { return k != KindRoot && k != KindRootChange }
