package trust

import (
	"errors"
	"fmt"
	"time"
)

// ErrNotInChain means a pinned root is not among the roots a chain names.
var ErrNotInChain = errors.New("the pinned root is not in the chain")

// Chain is a verified chain of roots: the first, signed by its own
// threshold, and each root change after it, signed by the threshold of the
// root it replaces. Roots[len-1] is the newest.
type Chain struct {
	// Roots are the roots in order, oldest first.
	Roots []*Root
}

// Newest is the newest root of the chain.
func (c *Chain) Newest() *Root { return c.Roots[len(c.Roots)-1] }

// Index is the position of the root with fingerprint fp, or -1.
func (c *Chain) Index(fp Fingerprint) int {
	for i, r := range c.Roots {
		if r.Fingerprint == fp {
			return i
		}
	}
	return -1
}

// VerifyChain checks docs: docs[0] a root signed by its own threshold, every
// later one a root change that the root before it accepts (ApplyChange).
// The first document that fails ends the check with its error.
func VerifyChain(docs [][]byte, now time.Time) (*Chain, error) {
	if len(docs) == 0 {
		return nil, errors.New("verify root chain: no root")
	}
	first, err := VerifyRoot(docs[0], now)
	if err != nil {
		return nil, err
	}
	c := &Chain{Roots: []*Root{first}}
	for i, raw := range docs[1:] {
		next, err := c.Newest().ApplyChange(raw, now)
		if err != nil {
			return nil, fmt.Errorf("root change %d (from %s): %w", i+1, c.Newest().Fingerprint, err)
		}
		c.Roots = append(c.Roots, next)
	}
	return c, nil
}

// Follow verifies docs and returns the newest root reached from the pinned
// root pin: every change after pin must be signed by the threshold of the
// root before it, so a relay that serves the chain can add nothing the
// pinned administrators did not sign. A chain that does not contain pin is
// refused with ErrNotInChain.
func Follow(docs [][]byte, pin Fingerprint, now time.Time) (*Root, error) {
	c, err := VerifyChain(docs, now)
	if err != nil {
		return nil, err
	}
	if c.Index(pin) < 0 {
		return nil, fmt.Errorf("relay serves root %s: %w (pinned %s)", c.Newest().Fingerprint, ErrNotInChain, pin)
	}
	return c.Newest(), nil
}
