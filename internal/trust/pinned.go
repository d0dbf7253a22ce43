package trust

import (
	"errors"
	"fmt"
)

// ErrRollback means a document is older than one already seen.
var ErrRollback = errors.New("rollback refused")

// Pinned is the highest version of one document kind a verifier has seen;
// it never goes down. Storing it is the caller's business.
type Pinned struct {
	// Kind is the document kind the version counts.
	Kind Kind
	// Highest is the highest version accepted so far.
	Highest uint64
}

// Accept returns the state after seeing version v, or ErrRollback when v
// is lower than the highest seen. The same version again is accepted.
func (p Pinned) Accept(v uint64) (Pinned, error) {
	if v < p.Highest {
		return p, fmt.Errorf("%s version %d is older than version %d already seen: %w", p.Kind, v, p.Highest, ErrRollback)
	}
	p.Highest = v
	return p, nil
}
