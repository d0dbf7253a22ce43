package rbac

// Set is a set of permissions. The zero Set is empty. Sets are values: they
// may be copied and compared with ==, and are safe for concurrent use.
type Set struct {
	bits uint64
}

// NewSet returns the set holding ps. Unknown permissions and wildcards are
// ignored; use Expand for wildcards.
func NewSet(ps ...Permission) Set {
	var s Set
	for _, p := range ps {
		if i := index(p); i >= 0 {
			s.bits |= 1 << i
		}
	}
	return s
}

// Has reports whether s holds p. It is false for wildcards and unknown names.
func (s Set) Has(p Permission) bool {
	i := index(p)
	return i >= 0 && s.bits&(1<<i) != 0
}

// List returns the permissions in s in the order of All.
func (s Set) List() []Permission {
	var out []Permission
	for i, p := range all {
		if s.bits&(1<<i) != 0 {
			out = append(out, p)
		}
	}
	return out
}

// Len returns the number of permissions in s.
func (s Set) Len() int {
	n := 0
	for b := s.bits; b != 0; b &= b - 1 {
		n++
	}
	return n
}

// Contains reports whether every permission in t is also in s.
func (s Set) Contains(t Set) bool {
	return t.bits&^s.bits == 0
}

// union returns s ∪ t.
func (s Set) union(t Set) Set { return Set{s.bits | t.bits} }

// minus returns s \ t.
func (s Set) minus(t Set) Set { return Set{s.bits &^ t.bits} }
