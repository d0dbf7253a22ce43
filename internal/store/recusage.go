package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The per-device recording quota asks, at every session's first recorded
// frame, how many bytes a device's finished recordings of the last 24
// hours hold. Reading the whole recordings bucket for that made session
// setup grow with the relay's history, so bucketRecordingUsage indexes
// the finished recordings by device and creation time:
//
//	key:   2-byte big-endian len(DeviceID) ‖ DeviceID ‖ 8-byte big-endian
//	       biased CreatedAt (Unix nanoseconds + 2⁶³) ‖ recording ID
//	value: 8-byte big-endian Size
//
// so that one cursor seek finds a device's recordings created after a
// time, in order. Every write of bucketRecordings updates it in the same
// transaction (bbolt has one writer, so the two never disagree); Open
// builds it from bucketRecordings when a file written by an older build
// does not have it.

// usageCounted reports whether r counts against its device's quota: a
// finished recording of a known device.
func usageCounted(r *Recording) bool {
	return r.DeviceID != "" && r.State != RecordingOpen && len(r.DeviceID) <= math.MaxUint16
}

// usagePrefix is the part of a usage key that names the device.
func usagePrefix(dev string) []byte {
	k := make([]byte, 2, 2+len(dev)+8)
	binary.BigEndian.PutUint16(k, uint16(len(dev)))
	return append(k, dev...)
}

// unixNanos is t in Unix nanoseconds, clamped to what an int64 holds (the
// zero time is the smallest).
func unixNanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// usageTime encodes Unix nanoseconds so that keys sort by time: biased
// by 2⁶³.
func usageTime(n int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(n)^(1<<63))
}

// usageKey is r's key in bucketRecordingUsage.
func usageKey(r *Recording) []byte {
	k := append(usagePrefix(r.DeviceID), usageTime(unixNanos(r.CreatedAt))...)
	return append(k, r.ID...)
}

// indexUsage replaces old's entry in the usage index with r's; either may
// be nil (a new or a deleted recording).
func indexUsage(tx *bolt.Tx, old, r *Recording) error {
	b := tx.Bucket(bucketRecordingUsage)
	if old != nil && usageCounted(old) {
		if err := b.Delete(usageKey(old)); err != nil {
			return err
		}
	}
	if r != nil && usageCounted(r) {
		return b.Put(usageKey(r), binary.BigEndian.AppendUint64(nil, uint64(r.Size)))
	}
	return nil
}

// currentRecording returns the entry under id, or nil if there is none.
func currentRecording(tx *bolt.Tx, id []byte) (*Recording, error) {
	data := tx.Bucket(bucketRecordings).Get(id)
	if data == nil {
		return nil, nil
	}
	var r Recording
	if err := decodeJSON(data, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// buildUsageIndex fills an empty usage index from every recording.
func buildUsageIndex(tx *bolt.Tx) error {
	return tx.Bucket(bucketRecordings).ForEach(func(k, v []byte) error {
		var r Recording
		if err := decodeJSON(v, &r); err != nil {
			return fmt.Errorf("recording %q: %w", k, err)
		}
		return indexUsage(tx, nil, &r)
	})
}

// RecordingUsage returns the total Size of deviceID's finished recordings
// created after since, from the usage index: the cost grows with the
// device's recordings inside the window, not with the relay's history.
func (db *DB) RecordingUsage(deviceID string, since time.Time) (int64, error) {
	var n int64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		var err error
		n, _, err = sumUsage(tx, deviceID, since)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("store: recording usage: %w", err)
	}
	return n, nil
}

// sumUsage sums the usage entries of deviceID created after since and
// says how many it read.
func sumUsage(tx *bolt.Tx, deviceID string, since time.Time) (n int64, read int, err error) {
	after := unixNanos(since)
	if after == math.MaxInt64 {
		return 0, 0, nil
	}
	prefix := usagePrefix(deviceID)
	// Strictly after since: start one nanosecond later.
	from := append(bytes.Clone(prefix), usageTime(after+1)...)
	c := tx.Bucket(bucketRecordingUsage).Cursor()
	for k, v := c.Seek(from); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if len(v) != 8 {
			return 0, read, fmt.Errorf("usage entry %x: bad size", k)
		}
		n += int64(binary.BigEndian.Uint64(v))
		read++
	}
	return n, read, nil
}
