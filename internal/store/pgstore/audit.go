package pgstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tether-support/tether/internal/store"
)

// auditLock is the advisory lock key every appender takes ("tether-a").
const auditLock = 0x7465746865722d61

// auditKey is the 8-byte big-endian key a record is stored under, as in
// the bbolt store.
func auditKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// AppendAudit appends the next record under an advisory lock that every
// relay's appender takes, so one chain grows in order. A record whose
// WriteKey an earlier append took is not appended: that one is returned.
//
// Round trips: BEGIN; the lock and the read of the last record, pipelined
// in one batch; the INSERT, which skips a taken write key by itself; and
// COMMIT (one more read only when the key was taken). Pipelining keeps
// the order that makes the chain safe: the server runs the batch's
// statements one after the other, and at READ COMMITTED the read takes its
// snapshot when it runs, after the lock is held, so it sees every record
// an earlier holder committed.
func (s *Store) AppendAudit(fn func(last *store.AuditRecord) (*store.AuditRecord, error)) (*store.AuditRecord, error) {
	var next *store.AuditRecord
	err := s.txRetry(readCommitted, func(ctx context.Context, tx pgx.Tx) error {
		last, err := lockedLastAudit(ctx, tx)
		if err != nil {
			return err
		}
		if next, err = fn(last); err != nil {
			return err
		}
		if next == nil || next.Seq == 0 || next.Seq > 1<<63-1 || (last != nil && next.Seq <= last.Seq) {
			return errors.New("record out of sequence")
		}
		rec, err := encode(next)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO audit (seq, key, rec, write_key) VALUES ($1, $2, $3, $4)
			ON CONFLICT (write_key) DO NOTHING`,
			int64(next.Seq), auditKey(next.Seq), rec, writeKey(next.WriteKey))
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		// The write key was taken: return the record appended with it.
		done, err := auditByWriteKey(ctx, tx, next.WriteKey)
		if err == nil && done == nil {
			err = errors.New("an append refused without a record under its write key")
		}
		next = done
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: append audit: %w", err)
	}
	return next, nil
}

// lockedLastAudit takes the audit lock for the transaction and then reads
// the newest record (nil if none), in one round trip.
func lockedLastAudit(ctx context.Context, tx pgx.Tx) (*store.AuditRecord, error) {
	b := &pgx.Batch{}
	b.Queue("SELECT pg_advisory_xact_lock($1)", int64(auditLock))
	b.Queue("SELECT rec FROM audit ORDER BY seq DESC LIMIT 1")
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, err
	}
	var data []byte
	err := br.QueryRow().Scan(&data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, br.Close()
	}
	if err != nil {
		return nil, err
	}
	var r store.AuditRecord
	if err := decode(data, &r); err != nil {
		return nil, err
	}
	return &r, br.Close()
}

// auditByWriteKey returns the record appended under key, or nil (always
// nil for an empty key).
func auditByWriteKey(ctx context.Context, tx pgx.Tx, key string) (*store.AuditRecord, error) {
	if key == "" {
		return nil, nil
	}
	var r store.AuditRecord
	err := getRec(ctx, tx, &r, "SELECT rec FROM audit WHERE write_key = $1", []byte(key))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// writeKey is the write_key column's value of key: NULL when empty.
func writeKey(key string) []byte {
	if key == "" {
		return nil
	}
	return []byte(key)
}

// lastAudit returns the newest record, or nil.
func lastAudit(ctx context.Context, tx querier) (*store.AuditRecord, error) {
	var r store.AuditRecord
	err := getRec(ctx, tx, &r, "SELECT rec FROM audit ORDER BY seq DESC LIMIT 1")
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// LastAudit returns the newest record, or nil and no error if empty.
func (s *Store) LastAudit() (*store.AuditRecord, error) {
	var last *store.AuditRecord
	err := s.single(func(ctx context.Context, tx querier) error {
		var err error
		last, err = lastAudit(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: last audit record: %w", err)
	}
	return last, nil
}

// AuditRecords calls fn for each record with Seq >= fromSeq, in order.
// The records are read in pages, each in its own snapshot; the log only
// grows at its end, so the pages join up.
func (s *Store) AuditRecords(fromSeq uint64, fn func(*store.AuditRecord) error) error {
	err := s.auditPages(fromSeq, func(_, val []byte) error {
		var r store.AuditRecord
		if err := decode(val, &r); err != nil {
			return err
		}
		return fn(&r)
	})
	if err != nil {
		return fmt.Errorf("store: audit records: %w", err)
	}
	return nil
}

// auditPage is how many records one page of a scan reads.
const auditPage = 1000

// auditPages calls fn with the key and value of every record from fromSeq
// on, a page at a time, so that a long log does not hold one transaction
// (or its memory) for the whole scan.
func (s *Store) auditPages(fromSeq uint64, fn func(key, val []byte) error) error {
	if fromSeq > 1<<63-1 {
		return nil
	}
	from := int64(fromSeq)
	for {
		type row struct {
			seq      int64
			key, val []byte
		}
		var page []row
		err := s.single(func(ctx context.Context, tx querier) error {
			page = page[:0]
			rows, err := tx.Query(ctx, "SELECT seq, key, rec FROM audit WHERE seq >= $1 ORDER BY seq LIMIT $2", from, auditPage)
			if err != nil {
				return err
			}
			var r row
			_, err = pgx.ForEachRow(rows, []any{&r.seq, &r.key, &r.val}, func() error {
				page = append(page, row{r.seq, append([]byte{}, r.key...), append([]byte{}, r.val...)})
				return nil
			})
			return err
		})
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r.key, r.val); err != nil {
				return err
			}
		}
		if len(page) < auditPage {
			return nil
		}
		from = page[len(page)-1].seq + 1
	}
}

// DeleteAuditBefore deletes the records with Seq < seq.
func (s *Store) DeleteAuditBefore(seq uint64) (int, error) {
	var n int64
	if seq > 1<<63-1 {
		seq = 1<<63 - 1
	}
	err := s.txRetry(readCommitted, func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(auditLock)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, "DELETE FROM audit WHERE seq < $1", int64(seq))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete audit before %d: %w", seq, err)
	}
	return int(n), nil
}

// AuditRaw calls fn with each record as stored, in Seq order.
func (s *Store) AuditRaw(fn func(key, val []byte) error) error {
	if err := s.auditPages(0, fn); err != nil {
		return fmt.Errorf("store: audit raw: %w", err)
	}
	return nil
}
