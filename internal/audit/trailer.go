package audit

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
)

// Kinds of trailer line a JSONL export ends with, after its entries. Each
// is one JSON object whose "record" field names the kind; an entry line has
// no "record" field, so consumers that select entries by their fields (e.g.
// jq 'select(.action=="login")') skip trailer lines.
const (
	// RecordHead carries the relay's head-signing public key ("head_key",
	// base64) and its signed head ("point").
	RecordHead = "head"
	// RecordPrune carries the relay's signed prune checkpoint ("point").
	RecordPrune = "prune_checkpoint"
	// RecordCountersigned carries one administrator-countersigned head
	// ("countersigned").
	RecordCountersigned = "countersigned"
)

// trailerLine is one trailer line of a JSONL export.
type trailerLine struct {
	Record        string         `json:"record"`
	HeadKey       []byte         `json:"head_key,omitempty"`
	Point         *SignedHead    `json:"point,omitempty"`
	Countersigned *Countersigned `json:"countersigned,omitempty"`
}

// Trailer is what a JSONL export carries after its entries so that a
// client can check it against heads it remembers: the relay's head key and
// signed head, its prune checkpoint and the administrators' countersigned
// checkpoints. Any field may be empty.
type Trailer struct {
	HeadKey       ed25519.PublicKey
	Head          *SignedHead
	Prune         *SignedHead
	Countersigned []*Countersigned
}

// WriteTrailer writes t as trailer lines of a JSONL export.
func WriteTrailer(w io.Writer, t *Trailer) error {
	var lines []trailerLine
	if t.Head != nil {
		lines = append(lines, trailerLine{Record: RecordHead, HeadKey: t.HeadKey, Point: t.Head})
	}
	if t.Prune != nil {
		lines = append(lines, trailerLine{Record: RecordPrune, Point: t.Prune})
	}
	for _, c := range t.Countersigned {
		lines = append(lines, trailerLine{Record: RecordCountersigned, Countersigned: c})
	}
	for i := range lines {
		b, err := json.Marshal(&lines[i])
		if err != nil {
			return fmt.Errorf("audit: export trailer: %w", err)
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("audit: export trailer: %w", err)
		}
	}
	return nil
}

// isTrailer reports whether a JSONL line is a trailer line: an object
// with a "record" field.
func isTrailer(line []byte) bool {
	var probe struct {
		Record *string `json:"record"`
	}
	return json.Unmarshal(line, &probe) == nil && probe.Record != nil
}

// add decodes one trailer line into t.
func (t *Trailer) add(line []byte) error {
	var l trailerLine
	if err := decodeStrict(line, &l); err != nil {
		return fmt.Errorf("trailer line: %w", err)
	}
	switch {
	case l.Record == RecordHead && l.Point != nil && t.Head == nil:
		if len(l.HeadKey) != ed25519.PublicKeySize {
			return fmt.Errorf("trailer line: head key is not %d bytes", ed25519.PublicKeySize)
		}
		t.HeadKey, t.Head = l.HeadKey, l.Point
		return t.Head.check()
	case l.Record == RecordPrune && l.Point != nil && t.Prune == nil:
		t.Prune = l.Point
		return t.Prune.check()
	case l.Record == RecordCountersigned && l.Countersigned != nil:
		if l.Countersigned.Seq == 0 || len(l.Countersigned.Hash) != 32 {
			return fmt.Errorf("trailer line: malformed countersigned checkpoint")
		}
		t.Countersigned = append(t.Countersigned, l.Countersigned)
		return nil
	}
	return fmt.Errorf("trailer line: unknown, incomplete or repeated record %q", l.Record)
}
