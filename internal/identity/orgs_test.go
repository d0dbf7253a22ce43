package identity

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/tether-support/tether/internal/store"
)

// TestOrgNames: the relay's own organisation is listed whether or not it
// is stored, once, with every stored one, sorted.
func TestOrgNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		own    string // the relay's organisation, "" for "default"
		stored []string
		want   []string
	}{
		{"nothing stored", "", nil, []string{"default"}},
		{"own stored by init", "acme", []string{"acme"}, []string{"acme"}},
		{"others", "", []string{"zeta", "beta"}, []string{"beta", "default", "zeta"}},
	} {
		db, err := store.Open(filepath.Join(t.TempDir(), "tether.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for i, name := range tc.stored {
			if i == 0 && name == tc.own {
				err = InitOrg(db, tc.own)
			} else {
				err = db.CreateOrg(&store.Org{Name: name})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := New(Config{}, db, nil, tc.own, nil, nil).OrgNames()
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v %v, want %v", tc.name, got, err, tc.want)
		}
	}
}

// TestInitOrg: init stores "default" when no name is given, and refuses
// to store an organisation twice.
func TestInitOrg(t *testing.T) {
	t.Parallel()
	db, err := store.Open(filepath.Join(t.TempDir(), "tether.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := InitOrg(db, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := db.OrgByName("default"); err != nil {
		t.Errorf("default organisation not stored: %v", err)
	}
	if err := InitOrg(db, "default"); err == nil {
		t.Error("stored the same organisation twice")
	}
}
