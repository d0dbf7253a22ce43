package relay

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/tether-support/tether/internal/api"
	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/store"
)

// metaCountersigned holds the administrator-countersigned checkpoints the
// relay serves in exports: a JSON array of audit.Countersigned.
const metaCountersigned = "audit_countersigned"

// maxCountersigned is how many countersigned checkpoints the relay keeps
// (the newest by sequence number).
const maxCountersigned = 64

// countersignedMu serialises the read-modify-write of metaCountersigned.
var countersignedMu sync.Mutex

// loadCountersigned returns the stored countersigned checkpoints.
func loadCountersigned(db store.Meta) ([]*audit.Countersigned, error) {
	b, err := db.GetMeta(metaCountersigned)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load countersigned checkpoints: %w", err)
	}
	var list []*audit.Countersigned
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("countersigned checkpoints in the database are malformed: %w", err)
	}
	return list, nil
}

// addCountersigned stores c, replacing one by the same key at the same
// entry, and keeps the newest maxCountersigned.
func addCountersigned(db store.Meta, c *audit.Countersigned) error {
	countersignedMu.Lock()
	defer countersignedMu.Unlock()
	list, err := loadCountersigned(db)
	if err != nil {
		return err
	}
	list = slices.DeleteFunc(list, func(o *audit.Countersigned) bool {
		return o.Seq == c.Seq && string(o.AdminKey) == string(c.AdminKey)
	})
	list = append(list, c)
	slices.SortStableFunc(list, func(a, b *audit.Countersigned) int { return cmp.Compare(a.Seq, b.Seq) })
	if len(list) > maxCountersigned {
		list = list[len(list)-maxCountersigned:]
	}
	b, err := json.Marshal(list)
	if err != nil {
		return fmt.Errorf("encode countersigned checkpoints: %w", err)
	}
	return db.PutMeta(metaCountersigned, b)
}

// entryHash returns the Hash of entry seq, or nil if there is none.
func entryHash(db store.Audit, seq uint64) ([]byte, error) {
	var hash []byte
	errFound := errors.New("found")
	err := db.AuditRecords(seq, func(r *store.AuditRecord) error {
		if r.Seq == seq {
			hash = r.Hash
		}
		return errFound
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, err
	}
	return hash, nil
}

// handleAuditCheckpoint stores an administrator's countersignature of a
// signed head after checking its signature and that it names an entry of
// this log by its hash.
func (s *Server) handleAuditCheckpoint(w http.ResponseWriter, r *http.Request, p *principal) {
	var req api.AuditCheckpoint
	if err := readJSON(r, &req); err != nil {
		s.writeErr(w, err)
		return
	}
	c := &audit.Countersigned{Seq: req.Seq, Hash: req.Hash, Time: req.Time, AdminKey: req.AdminKey, Ed25519: req.Ed25519, MLDSA: req.MLDSA}
	pub, err := c.Verify()
	if err != nil {
		s.writeErr(w, errf(http.StatusBadRequest, "sign the head with `tech audit checkpoint`", "checkpoint refused: %v", err))
		return
	}
	hash, err := entryHash(s.db, c.Seq)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if hash == nil || string(hash) != string(c.Hash) {
		s.writeErr(w, errf(http.StatusConflict, "verify the log with `tech audit verify`",
			"checkpoint refused: entry %d of the relay's audit log does not have the countersigned hash", c.Seq))
		return
	}
	if err := addCountersigned(s.db, c); err != nil {
		s.writeErr(w, err)
		return
	}
	id := pub.ID().String()
	s.record(auditEvent(p.user.ID, "audit.checkpoint", strconv.FormatUint(c.Seq, 10), "success", p.source, "key_id", id))
	writeJSON(w, http.StatusOK, api.AuditCheckpointStored{Seq: c.Seq, KeyID: id})
}

// auditTrailer signs the head and returns the trailer of a JSONL export:
// the head key and signed head, the prune checkpoint and the countersigned
// checkpoints. Make it before streaming the entries, so the head is never
// past the last entry exported.
func (s *Server) auditTrailer() (*audit.Trailer, error) {
	if err := s.audit.SignHead(); err != nil {
		return nil, err
	}
	t := &audit.Trailer{HeadKey: s.audit.HeadKey()}
	var err error
	if t.Head, err = audit.LoadHead(s.db); err != nil {
		return nil, err
	}
	if t.Prune, err = audit.LoadCheckpoint(s.db); err != nil {
		return nil, err
	}
	if t.Countersigned, err = loadCountersigned(s.db); err != nil {
		return nil, err
	}
	return t, nil
}
