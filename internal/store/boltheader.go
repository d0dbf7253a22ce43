package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
)

// bbolt's file header, as far as checkBoltHeader reads it: two meta pages,
// each a 16-byte page header and then the meta fields (little-endian on
// every platform Tether builds for).
const (
	boltPageHeader = 16
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	// boltMetaLen is the meta fields before the checksum: magic, version,
	// page size, flags (4 bytes each), root bucket (16), freelist, pgid
	// and txid (8 each).
	boltMetaLen = 56
	minPageSize = 512
	maxPageSize = 1 << 16
)

// checkBoltHeader checks, without bbolt, that path starts with a valid
// bbolt meta page and is as long as its metas say. bbolt maps the file
// and reads pages where the metas point; a file shorter than that (a cut
// copy) would fault the process instead of failing.
func checkBoltHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	m0, err := readMeta(f, 0)
	if err != nil {
		return fmt.Errorf("first meta page: %w", err)
	}
	metas := []boltMeta{m0}
	if m1, err := readMeta(f, int64(m0.pageSize)); err == nil && m1.pageSize == m0.pageSize {
		metas = append(metas, m1)
	}
	for _, m := range metas {
		if m.pgid < 2 || m.root >= m.pgid || m.freelist >= m.pgid && m.freelist != ^uint64(0) {
			return errors.New("meta page points outside the file")
		}
		if need := int64(m.pgid) * int64(m.pageSize); need > size || need < 0 {
			return fmt.Errorf("file is %d bytes, its meta page says at least %d (cut short?)", size, need)
		}
	}
	return nil
}

// boltMeta is what checkBoltHeader uses of a meta page.
type boltMeta struct {
	pageSize             uint32
	root, freelist, pgid uint64
}

// readMeta reads and checks the meta page at off.
func readMeta(r io.ReaderAt, off int64) (boltMeta, error) {
	var b [boltPageHeader + boltMetaLen + 8]byte
	if _, err := r.ReadAt(b[:], off); err != nil {
		return boltMeta{}, fmt.Errorf("not a bbolt file: %w", err)
	}
	m := b[boltPageHeader:]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != boltMagic || le.Uint32(m[4:]) != boltVersion {
		return boltMeta{}, errors.New("not a bbolt file (bad magic or version)")
	}
	h := fnv.New64a()
	h.Write(m[:boltMetaLen])
	if h.Sum64() != le.Uint64(m[boltMetaLen:]) {
		return boltMeta{}, errors.New("meta page checksum mismatch")
	}
	ps := le.Uint32(m[8:])
	if ps < minPageSize || ps > maxPageSize || ps&(ps-1) != 0 {
		return boltMeta{}, fmt.Errorf("implausible page size %d", ps)
	}
	return boltMeta{pageSize: ps, root: le.Uint64(m[16:]), freelist: le.Uint64(m[32:]), pgid: le.Uint64(m[40:])}, nil
}
