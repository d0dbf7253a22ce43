package recstore_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/recstore"
	"github.com/tether-support/tether/internal/recstore/recstoretest"
)

func TestLocalConformance(t *testing.T) {
	t.Parallel()
	recstoretest.Run(t, func(t *testing.T) recstore.Store { return recstore.NewLocal(filepath.Join(t.TempDir(), "recordings")) }, 0)
}

// TestLocalLayout pins today's layout: DIR/<id>.rec, 0600 in a 0700
// directory, readable while still being written.
func TestLocalLayout(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "recordings")
	s := recstore.NewLocal(dir)
	id := ids.NewSessionID()
	w, err := s.Create(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("abc"))
	st, err := os.Stat(filepath.Join(dir, string(id)+".rec"))
	if err != nil || st.Mode().Perm() != 0o600 || st.Size() != 3 {
		t.Fatalf("file %v, %v", st, err)
	}
	if d, _ := os.Stat(dir); d.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", d.Mode())
	}
	w.Close()
}
