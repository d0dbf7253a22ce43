// Package trust provides the organisation trust root's building blocks:
// hybrid Ed25519 + ML-DSA-65 signing keys, passphrase-encrypted key files,
// and signed documents (root, root change, policy, revocation list,
// technician certificate) with one canonical binary encoding.
//
// A hybrid signature is valid only when both of its halves verify, so
// breaking either algorithm alone forges nothing. Every signature is bound
// to a label naming what is signed (domain separation), so a signature over
// one kind of document never verifies as another kind.
//
// The byte-level format is specified in FORMAT.md beside this file, with
// known-answer vectors under testdata/kat. Nothing here touches the network
// or stores state: callers decide where documents and pinned versions live.
package trust
