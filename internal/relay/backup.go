package relay

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/tether-support/tether/internal/audit"
	"github.com/tether-support/tether/internal/backup"
	"github.com/tether-support/tether/internal/store"
)

// BackupOptions says what Backup copies where.
type BackupOptions struct {
	// Dir is the relay's data directory.
	Dir string
	// Out is the archive to write (mode 0600, atomically).
	Out string
	// Force replaces an existing Out.
	Force bool
}

// BackupResult says what Backup wrote.
type BackupResult struct {
	// Online is true when the serving relay took the snapshot.
	Online bool
	// Files is how many regular files the archive holds (the database
	// included), Bytes their total size.
	Files int
	Bytes int64
	// Skipped names entries of the data directory left out: sockets,
	// links and other files that are not regular, and files that went
	// away while the backup ran.
	Skipped []string
}

// Backup writes an archive (package backup's format) of the data
// directory opts.Dir to opts.Out. The database is a consistent snapshot:
// taken by the serving relay over its host socket if one runs, else read
// from the stopped relay's file directly. Either way the backup is audited
// (relay.backup, actor "relay host") before the snapshot, so the copy
// records it. The rest of the directory (TLS identity, audit head key,
// trust files, emergency grants, recordings) is copied after the
// snapshot; see docs/operations.md for what that means for recordings
// being written. Out is written to a temporary file beside it and renamed
// into place, never leaving a partial archive under its name.
func Backup(opts BackupOptions) (*BackupResult, error) {
	if !Initialized(opts.Dir) {
		return nil, fmt.Errorf("%q is not a relay data directory (--data DIR)", opts.Dir)
	}
	if cfg, err := storeConfig(opts.Dir); err != nil {
		return nil, err
	} else if !store.IsBolt(cfg) {
		return nil, fmt.Errorf("%s keeps its state in PostgreSQL, which relay backup cannot copy: "+
			"back up the database with pg_dump and the directory with relay cluster export (docs/deploy-cluster.md, Backups)", opts.Dir)
	}
	if err := checkBackupOut(opts); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(opts.Out), ".tether-backup-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("create the backup file: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	if err := tmp.Chmod(0o600); err != nil {
		return nil, err
	}
	res, err := writeBackup(tmp, opts.Dir)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(tmp.Sync(), tmp.Close()); err != nil {
		return nil, fmt.Errorf("write %s: %w", opts.Out, err)
	}
	if err := os.Rename(tmp.Name(), opts.Out); err != nil {
		return nil, fmt.Errorf("put the backup in place: %w", err)
	}
	syncDir(filepath.Dir(opts.Out))
	return res, nil
}

// checkBackupOut refuses an existing Out without Force, and an Out inside
// the data directory (the backup would copy itself).
func checkBackupOut(opts BackupOptions) error {
	if st, err := os.Stat(opts.Out); err == nil {
		if !opts.Force || !st.Mode().IsRegular() {
			return fmt.Errorf("%s exists; choose another name or pass --force to replace it", opts.Out)
		}
	}
	absDir, err1 := filepath.Abs(opts.Dir)
	absOut, err2 := filepath.Abs(opts.Out)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	if rel, err := filepath.Rel(absDir, absOut); err == nil && !strings.HasPrefix(rel, "..") {
		return fmt.Errorf("write the backup outside the data directory %s", opts.Dir)
	}
	return nil
}

// writeBackup writes the archive of dir to w.
func writeBackup(w io.Writer, dir string) (*BackupResult, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	created := now()
	aw := backup.NewWriter(bw, created)
	res := &BackupResult{}
	online, err := snapshotInto(aw, dir, res)
	if err != nil {
		return nil, err
	}
	res.Online = online
	if err := copyDataDir(aw, dir, res); err != nil {
		return nil, err
	}
	fp, _ := fingerprint(dir)
	if err := aw.Close(backup.Manifest{Created: created, Online: online, Fingerprint: fp}); err != nil {
		return nil, err
	}
	return res, bw.Flush()
}

// snapshotInto adds the database snapshot to aw: from the serving relay,
// or, when none answers, from the file (which then must not be locked).
func snapshotInto(aw *backup.Writer, dir string, res *BackupResult) (online bool, err error) {
	size, rc, err := askHostSnapshot(dir)
	if err == nil {
		defer rc.Close()
		if err := aw.File(backup.DatabaseName, 0o600, size, rc); err != nil {
			return true, fmt.Errorf("copy the relay's snapshot: %w", err)
		}
		res.Files, res.Bytes = 1, size
		return true, nil
	}
	if !errors.Is(err, errNoHostSocket) {
		return false, err
	}
	size, err = offlineSnapshot(dir, func(size int64, r io.Reader) error {
		return aw.File(backup.DatabaseName, 0o600, size, r)
	})
	if err != nil {
		return false, err
	}
	res.Files, res.Bytes = 1, size
	return false, nil
}

// offlineSnapshot opens the stopped relay's database, audits the backup,
// and hands its snapshot to add.
func offlineSnapshot(dir string, add func(size int64, r io.Reader) error) (int64, error) {
	db, err := openStore(dir)
	if errors.Is(err, store.ErrLocked) {
		return 0, fmt.Errorf("the relay is running and holds %s, but does not answer on %s; "+
			"wait until it has started and try again, or stop it and back up", dbPath(dir), hostSocketPath(dir))
	}
	if err != nil {
		return 0, err
	}
	defer db.Close()
	ev := audit.NewEvent(hostActor, "relay.backup", "", "success", hostActor, "via", "data directory")
	if err := auditHostAction(dir, db, "backup", ev); err != nil {
		return 0, err
	}
	snap, ok := db.(store.Snapshotter)
	if !ok {
		return 0, errors.New("this store cannot be snapshotted")
	}
	pr, pw := io.Pipe()
	var size int64
	errc := make(chan error, 1)
	go func() {
		_, err := snap.WriteSnapshot(pw, func(n int64) error { size = n; errc <- nil; return nil })
		pw.CloseWithError(err)
		if err != nil {
			select {
			case errc <- err:
			default:
			}
		}
	}()
	if err := <-errc; err != nil {
		return 0, err
	}
	err = add(size, pr)
	pr.CloseWithError(errors.New("backup stopped"))
	return size, err
}

// copyDataDir adds every directory and regular file of dir but the
// database and the host socket, each directory before what it holds.
func copyDataDir(aw *backup.Writer, dir string, res *BackupResult) error {
	dir, err := filepath.EvalSymlinks(dir) // a data directory reached through a link
	if err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if p == dir {
			return err
		}
		rel, rerr := filepath.Rel(dir, p)
		if rerr != nil {
			return rerr
		}
		name := filepath.ToSlash(rel)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				res.Skipped = append(res.Skipped, name+" (went away)")
				return nil
			}
			return err
		}
		switch {
		case name == backup.DatabaseName || name == hostSocketName:
			return nil
		case d.IsDir():
			return aw.Dir(name)
		case !d.Type().IsRegular():
			res.Skipped = append(res.Skipped, name+" (not a regular file)")
			return nil
		}
		return copyFile(aw, p, name, res)
	})
}

// copyFile adds the regular file p as name, as long as it was when
// opened (a recording being written only grows).
func copyFile(aw *backup.Writer, p, name string, res *BackupResult) error {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		res.Skipped = append(res.Skipped, name+" (went away)")
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if err := aw.File(name, st.Mode(), st.Size(), f); err != nil {
		return err
	}
	res.Files++
	res.Bytes += st.Size()
	return nil
}

// syncDir makes a rename in dir durable, where the platform allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
