package rbac

import "testing"

func FuzzParsePermission(f *testing.F) {
	for _, s := range []string{"session.start", "*", "session.*", "session.", "", "a.*.*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePermission(s)
		if err != nil {
			return
		}
		ps, err := Expand(string(p))
		if err != nil || len(ps) == 0 {
			t.Fatalf("ParsePermission(%q) ok but Expand = %v, %v", s, ps, err)
		}
		for _, q := range ps {
			if index(q) < 0 {
				t.Fatalf("Expand(%q) returned unknown %q", s, q)
			}
		}
		if !p.IsWildcard() && (len(ps) != 1 || ps[0] != p) {
			t.Fatalf("exact %q expanded to %v", p, ps)
		}
	})
}
