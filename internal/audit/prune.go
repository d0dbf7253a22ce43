package audit

import (
	"errors"
	"fmt"
	"time"

	"github.com/tether-support/tether/internal/store"
)

// Prune deletes entries older than retention (DefaultRetention if zero or
// negative) and returns how many it deleted. The newest entry is always
// kept. Before deleting it signs the head and stores a signed checkpoint
// {seq, hash} naming the first kept entry and its Prev, so that the
// remaining chain still verifies; a crash part way leaves a log that still
// verifies.
func (l *Log) Prune(retention time.Duration) (int, error) {
	if err := l.checkKeys(); err != nil {
		return 0, err
	}
	if retention <= 0 {
		retention = DefaultRetention
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now().UTC()
	keep, first, err := firstKept(l.db, now.Add(-retention))
	if err != nil || keep == nil || keep.Seq == first {
		return 0, err
	}
	last, err := l.db.LastAudit()
	if err != nil {
		return 0, fmt.Errorf("audit: prune: %w", err)
	}
	head := &signedPoint{Seq: last.Seq, Hash: last.Hash, Time: now}
	if err := l.putPoint(HeadKey, headContext, head); err != nil {
		return 0, fmt.Errorf("audit: prune: sign head: %w", err)
	}
	cp := &signedPoint{Seq: keep.Seq, Hash: keep.Prev, Time: now}
	if err := l.putPoint(CheckpointKey, checkpointContext, cp); err != nil {
		return 0, fmt.Errorf("audit: prune: store checkpoint: %w", err)
	}
	n, err := l.db.DeleteAuditBefore(keep.Seq)
	if err != nil {
		return n, fmt.Errorf("audit: prune: %w", err)
	}
	return n, nil
}

// firstKept returns the first entry to keep — the oldest with Time at or
// after cutoff, or else the newest — and the Seq of the oldest entry. It
// returns a nil entry if the log is empty.
func firstKept(db Store, cutoff time.Time) (*store.AuditRecord, uint64, error) {
	var keep *store.AuditRecord
	var first uint64
	err := db.AuditRecords(0, func(r *store.AuditRecord) error {
		if first == 0 {
			first = r.Seq
		}
		keep = r
		if !r.Time.Before(cutoff) {
			return errStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, 0, fmt.Errorf("audit: prune: %w", err)
	}
	return keep, first, nil
}
