package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/store"
)

// PutSession creates or replaces s (not its file transfers), assigning
// s.ID if empty.
func (s *Store) PutSession(sess *store.Session) error {
	if sess.ID == "" {
		sess.ID = ids.NewSessionID()
	}
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		return putSession(ctx, tx, sess)
	})
	if err != nil {
		return fmt.Errorf("store: put session %q: %w", sess.ID, err)
	}
	return nil
}

// SessionByID returns the session with its file transfers.
func (s *Store) SessionByID(id ids.SessionID) (*store.Session, error) {
	var sess store.Session
	err := s.read(func(ctx context.Context, tx pgx.Tx) error {
		sess = store.Session{}
		var data []byte
		var dropped int64
		err := tx.QueryRow(ctx, "SELECT rec, files_dropped FROM sessions WHERE id = $1", []byte(id)).Scan(&data, &dropped)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if err := decode(data, &sess); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, "SELECT rec FROM session_files WHERE session_id = $1 ORDER BY n", []byte(id))
		if err != nil {
			return err
		}
		files, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			return err
		}
		for _, f := range files {
			var ft store.FileTransfer
			if err := decode(f, &ft); err != nil {
				return err
			}
			sess.Files = append(sess.Files, ft)
		}
		sess.FilesDropped += dropped
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: session %q: %w", id, err)
	}
	return &sess, nil
}

// UpdateSession reads, modifies with fn and writes back the session.
func (s *Store) UpdateSession(id ids.SessionID, fn func(*store.Session) error) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		var sess store.Session
		if err := getRec(ctx, tx, &sess, "SELECT rec FROM sessions WHERE id = $1", []byte(id)); err != nil {
			return err
		}
		if err := fn(&sess); err != nil {
			return err
		}
		if sess.ID != id {
			return errors.New("the ID is immutable")
		}
		return putSession(ctx, tx, &sess)
	})
	if err != nil {
		return fmt.Errorf("store: update session %q: %w", id, err)
	}
	return nil
}

// ListSessions returns every session, newest first, without files.
func (s *Store) ListSessions() ([]store.Session, error) {
	sessions, err := listRecs[store.Session](s, "SELECT rec FROM sessions ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("store: list sessions: %w", err)
	}
	slices.SortStableFunc(sessions, func(a, b store.Session) int {
		return b.CreatedAt.Compare(a.CreatedAt)
	})
	return sessions, nil
}

// AppendSessionFile records one file transfer of an existing session;
// beyond store.MaxSessionFiles it only counts. A transfer whose WriteKey
// the session already took is not added again.
func (s *Store) AppendSessionFile(id ids.SessionID, f store.FileTransfer) error {
	rec, err := encode(&f)
	if err != nil {
		return err
	}
	err = s.write(func(ctx context.Context, tx pgx.Tx) error {
		var n int64
		err := tx.QueryRow(ctx, "SELECT files FROM sessions WHERE id = $1 FOR UPDATE", []byte(id)).Scan(&n)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if f.WriteKey != "" {
			tag, err := tx.Exec(ctx, "INSERT INTO session_file_keys (session_id, write_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
				[]byte(id), []byte(f.WriteKey))
			if err != nil || tag.RowsAffected() == 0 {
				return err
			}
		}
		if n >= store.MaxSessionFiles {
			_, err = tx.Exec(ctx, "UPDATE sessions SET files_dropped = files_dropped + 1 WHERE id = $1", []byte(id))
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO session_files (session_id, n, rec) VALUES ($1, $2, $3)", []byte(id), n, rec); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE sessions SET files = files + 1 WHERE id = $1", []byte(id))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: append file to session %q: %w", id, err)
	}
	return nil
}

// DeleteSession deletes the session and its file transfers if check
// accepts it.
func (s *Store) DeleteSession(id ids.SessionID, check func(*store.Session) error) error {
	err := s.write(func(ctx context.Context, tx pgx.Tx) error {
		var sess store.Session
		if err := getRec(ctx, tx, &sess, "SELECT rec FROM sessions WHERE id = $1", []byte(id)); err != nil {
			return err
		}
		if check != nil {
			if err := check(&sess); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, "DELETE FROM sessions WHERE id = $1", []byte(id))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: delete session %q: %w", id, err)
	}
	return nil
}

// putSession writes the session's record and the columns that repeat its
// home relay and whether it is open (see migrations/0003_cluster.sql).
func putSession(ctx context.Context, tx pgx.Tx, sess *store.Session) error {
	rec, err := encode(sess)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO sessions (id, rec, relay, open) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO UPDATE SET rec = EXCLUDED.rec, relay = EXCLUDED.relay, open = EXCLUDED.open`,
		[]byte(sess.ID), rec, sess.Relay, sess.State != store.SessionEnded)
	return err
}
