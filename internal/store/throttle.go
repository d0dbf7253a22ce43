package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Counter is one throttle record: how many events were counted since Start,
// the last one, and when the record expires. An expired record reads as the
// zero Counter and is removed by SweepThrottle.
type Counter struct {
	N       int       `json:"n"`
	Start   time.Time `json:"start"`
	Last    time.Time `json:"last"`
	Expires time.Time `json:"expires"`
}

// MaxThrottleKeys bounds the throttle bucket: a new key is refused with
// ErrFull while it holds this many records (expired ones included until the
// next sweep), so that no stream of new sources can grow the file without
// bound.
const MaxThrottleKeys = 200_000

// ErrFull means the throttle bucket holds MaxThrottleKeys records and a new
// key was refused.
var ErrFull = errors.New("store: throttle table full")

// throttleCountKey holds the number of records in the throttle bucket (a
// big-endian uint64). It sorts before every real key, which are printable.
var throttleCountKey = []byte("\x00count")

// Throttle returns key's counter at t, or the zero Counter if there is none
// or it has expired.
func (db *DB) Throttle(key string, t time.Time) (Counter, error) {
	var c Counter
	err := db.bolt.View(func(tx *bolt.Tx) error {
		c = liveCounter(tx.Bucket(bucketThrottle), []byte(key), t)
		return nil
	})
	if err != nil {
		return Counter{}, fmt.Errorf("store: throttle %q: %w", key, err)
	}
	return c, nil
}

// ThrottleHit counts one event for key at t and returns the new counter. A
// missing or expired record starts afresh at t. With sliding false the
// record is a fixed window that expires at Start+window; with sliding true
// it expires window after its latest event, so a series lasts while events
// keep coming. A new key is refused with ErrFull when the bucket is full.
func (db *DB) ThrottleHit(key string, t time.Time, window time.Duration, sliding bool) (Counter, error) {
	var c Counter
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketThrottle)
		c = liveCounter(b, []byte(key), t)
		if c.N == 0 {
			c.Start = t
		}
		c.N++
		c.Last = t
		c.Expires = c.Start.Add(window)
		if sliding {
			c.Expires = t.Add(window)
		}
		return putThrottleCounter(b, []byte(key), &c, db.throttleLimit())
	})
	if err != nil {
		return Counter{}, fmt.Errorf("store: count %q: %w", key, err)
	}
	return c, nil
}

// ThrottleRemember marks key (which must start with prefix) as seen at t
// for ttl. At most max keys under prefix are kept: when there are more, the
// ones seen longest ago are deleted. It bounds, for example, how many
// source addresses are remembered for one account.
func (db *DB) ThrottleRemember(prefix, key string, t time.Time, ttl time.Duration, max int) error {
	if !bytes.HasPrefix([]byte(key), []byte(prefix)) || prefix == "" || max < 1 {
		return fmt.Errorf("store: remember %q: key outside prefix %q", key, prefix)
	}
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketThrottle)
		c := liveCounter(b, []byte(key), t)
		if c.N == 0 {
			c.Start = t
		}
		c.N++
		c.Last, c.Expires = t, t.Add(ttl)
		if err := putThrottleCounter(b, []byte(key), &c, db.throttleLimit()); err != nil {
			return err
		}
		return keepNewest(b, []byte(prefix), max)
	})
	if err != nil {
		return fmt.Errorf("store: remember %q: %w", key, err)
	}
	return nil
}

// keepNewest deletes the records under prefix seen longest ago until at
// most max remain.
func keepNewest(b *bolt.Bucket, prefix []byte, max int) error {
	for {
		var oldest []byte
		var oldestAt time.Time
		n := 0
		c := b.Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			n++
			var rec Counter
			if decodeJSON(v, &rec) != nil || oldest == nil || rec.Last.Before(oldestAt) {
				oldest, oldestAt = append([]byte{}, k...), rec.Last
			}
		}
		if n <= max {
			return nil
		}
		if err := deleteCounter(b, oldest); err != nil {
			return err
		}
	}
}

// DeleteThrottle deletes every record whose key starts with prefix and
// returns how many it deleted.
func (db *DB) DeleteThrottle(prefix string) (int, error) {
	if prefix == "" {
		return 0, errors.New("store: delete throttle: empty prefix")
	}
	n := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketThrottle)
		var keys [][]byte
		c := b.Cursor()
		for k, _ := c.Seek([]byte(prefix)); k != nil && bytes.HasPrefix(k, []byte(prefix)); k, _ = c.Next() {
			keys = append(keys, append([]byte{}, k...))
		}
		for _, k := range keys {
			if err := deleteCounter(b, k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: delete throttle %q: %w", prefix, err)
	}
	return n, nil
}

// ForgetThrottle deletes the record under key, if any.
func (db *DB) ForgetThrottle(key string) error {
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		return deleteCounter(tx.Bucket(bucketThrottle), []byte(key))
	})
	if err != nil {
		return fmt.Errorf("store: forget %q: %w", key, err)
	}
	return nil
}

// SweepThrottle deletes the records expired at t and returns how many.
func (db *DB) SweepThrottle(t time.Time) (int, error) {
	n := 0
	err := db.bolt.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketThrottle)
		var dead [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var c Counter
			if bytes.Equal(k, throttleCountKey) {
				return nil
			}
			if decodeJSON(v, &c) != nil || !t.Before(c.Expires) {
				dead = append(dead, append([]byte{}, k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := deleteCounter(b, k); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: sweep throttle: %w", err)
	}
	return n, nil
}

// ThrottleKeys returns how many records the throttle bucket holds.
func (db *DB) ThrottleKeys() (int, error) {
	var n uint64
	err := db.bolt.View(func(tx *bolt.Tx) error {
		n = throttleCount(tx.Bucket(bucketThrottle))
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: throttle size: %w", err)
	}
	return int(n), nil
}

// liveCounter returns the record under key, or the zero Counter if there
// is none, it does not decode, or it has expired at t.
func liveCounter(b *bolt.Bucket, key []byte, t time.Time) Counter {
	var c Counter
	if getJSON(b, key, &c) != nil || !t.Before(c.Expires) {
		return Counter{}
	}
	return c
}

// throttleLimit is how many records the throttle bucket may hold:
// MaxThrottleKeys unless Config.ThrottleKeys lowered it.
func (db *DB) throttleLimit() uint64 {
	if db.maxThrottle > 0 && db.maxThrottle < MaxThrottleKeys {
		return uint64(db.maxThrottle)
	}
	return MaxThrottleKeys
}

// putThrottleCounter stores c under key, keeping the record count and refusing a
// new key when the bucket holds max records.
func putThrottleCounter(b *bolt.Bucket, key []byte, c *Counter, max uint64) error {
	if b.Get(key) == nil {
		n := throttleCount(b)
		if n >= max {
			return ErrFull
		}
		if err := b.Put(throttleCountKey, binary.BigEndian.AppendUint64(nil, n+1)); err != nil {
			return err
		}
	}
	return putJSON(b, key, c)
}

// deleteCounter deletes key, keeping the record count.
func deleteCounter(b *bolt.Bucket, key []byte) error {
	if b.Get(key) == nil {
		return nil
	}
	if n := throttleCount(b); n > 0 {
		if err := b.Put(throttleCountKey, binary.BigEndian.AppendUint64(nil, n-1)); err != nil {
			return err
		}
	}
	return b.Delete(key)
}

// throttleCount reads the record count of the throttle bucket.
func throttleCount(b *bolt.Bucket) uint64 {
	if v := b.Get(throttleCountKey); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}
