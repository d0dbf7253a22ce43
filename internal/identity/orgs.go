package identity

import (
	"fmt"
	"slices"
	"sort"

	"github.com/tether-support/tether/internal/passpolicy"
	"github.com/tether-support/tether/internal/store"
)

// OrgNames returns every organisation's name, the relay's own included,
// sorted.
func (s *Accounts) OrgNames() ([]string, error) {
	orgs, err := s.db.ListOrgs()
	if err != nil {
		return nil, err
	}
	names := []string{s.DefaultOrg()}
	for _, o := range orgs {
		if !slices.Contains(names, o.Name) {
			names = append(names, o.Name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// InitOrg stores the relay's own organisation, name ("default" if empty),
// with the default policy; `relay init` calls it on a new data directory.
func InitOrg(db store.Orgs, name string) error {
	if name == "" {
		name = "default"
	}
	if err := db.CreateOrg(&store.Org{Name: name, Policy: passpolicy.Default(), CreatedAt: now()}); err != nil {
		return fmt.Errorf("create organisation %q: %w", name, err)
	}
	return nil
}
