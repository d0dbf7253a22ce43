package username

import (
	"testing"
	"unicode/utf8"
)

func TestSkeletonConfusables(t *testing.T) {
	tests := []struct {
		name, a, b string
		same       bool
	}{
		{"Cyrillic а in admin", "\u0430dmin", "admin", true},
		{"Cyrillic with a Latin r", "сорреr", "copper", true},
		{"all-Cyrillic сорргг", "сорргг", "copprr", true},
		{"all-Cyrillic alice", "аӏісе", "aiice", true},
		{"Cyrillic capital А", "Аdmin", "admin", true},
		{"Cyrillic м is rn", "аԁміп", "admin", true},
		{"Greek omicron", "r\u03bfot", "root", true},
		{"all-Greek topo", "τορο", "topo", true},
		{"Greek capitals", "ΤΟΡΟ", "topo", true},
		{"Armenian o and u", "օս", "ou", true},
		{"digit zero is O", "r00t", "root", true},
		{"digit one is l", "a1ice", "alice", true},
		{"digit one is not i", "adm1n", "admin", false},
		{"capital I is l", "Ivan", "lvan", true},
		{"small i is not l", "ivan", "lvan", false},
		{"m is rn", "mary", "rnary", true},
		{"Cyrillic ё is ë", "ёlla", "ëlla", true},
		{"accent is not nothing", "admín", "admin", false},
		{"different names", "bob", "bobby", false},
		{"Cyrillic name of its own", "иван", "ivan", false},
		{"Arabic-Indic one", "\u0661ee", "lee", true},
		{"Devanagari zero", "b\u0966b", "bob", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Skeleton(tt.a) == Skeleton(tt.b); got != tt.same {
				t.Errorf("Skeleton(%q) = %q, Skeleton(%q) = %q: same = %v, want %v",
					tt.a, Skeleton(tt.a), tt.b, Skeleton(tt.b), got, tt.same)
			}
			if got := Confusable(tt.a, tt.b); got != (tt.same && tt.a != tt.b) {
				t.Errorf("Confusable(%q, %q) = %v", tt.a, tt.b, got)
			}
		})
	}
}

func TestSkeletonOfCanonicalForms(t *testing.T) {
	// What the relay compares: canonical forms of the names as typed.
	tests := []struct {
		typed, existing string
		same            bool
	}{
		{"ＲＯＯＴ", "root", true}, // fullwidth folds to ASCII first
		{"ｒ００ｔ", "root", true}, // fullwidth digits too
		{"ΤΟΡΟ", "topo", true},
		{"Alice", "alice", true},
		{"Adm1n", "admin", false},
	}
	for _, tt := range tests {
		c, err := Canonical(tt.typed)
		if err != nil {
			t.Fatalf("Canonical(%q): %v", tt.typed, err)
		}
		if got := Skeleton(c) == Skeleton(tt.existing); got != tt.same {
			t.Errorf("%q (canonical %q) vs %q: same skeleton = %v, want %v", tt.typed, c, tt.existing, got, tt.same)
		}
	}
}

func TestConfusableTableTargetsArePlain(t *testing.T) {
	for src, dst := range confusables {
		if dst == "" || dst == string(src) {
			t.Errorf("entry %U maps to %q", src, dst)
		}
		if Skeleton(dst) != Skeleton(string(src)) {
			t.Errorf("entry %U: skeleton of source %q != skeleton of target %q", src, Skeleton(string(src)), Skeleton(dst))
		}
		for _, r := range Skeleton(dst) {
			if _, ok := confusables[r]; ok {
				t.Errorf("entry %U: skeleton %q still holds mapped %U", src, Skeleton(dst), r)
			}
		}
	}
}

func FuzzSkeleton(f *testing.F) {
	for _, s := range []string{"admin", "\u0430dmin", "r00t", "ΤΟΡΟ", "mary", "ёlla", "\xff\xfe", "", "Ivan", "ｒ００ｔ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := Skeleton(s)
		if k != Skeleton(s) {
			t.Fatalf("Skeleton(%q) is not deterministic", s)
		}
		if !utf8.ValidString(k) {
			t.Fatalf("Skeleton(%q) = %q is not valid UTF-8", s, k)
		}
		if Skeleton(k) != k {
			t.Fatalf("Skeleton(%q) = %q, but Skeleton of that = %q: not idempotent", s, k, Skeleton(k))
		}
		if utf8.RuneCountInString(k) > 2*utf8.RuneCountInString(s) {
			t.Fatalf("Skeleton(%q) = %q grew too much", s, k)
		}
		if c, err := Canonical(s); err == nil && Confusable(c, c) {
			t.Fatalf("Confusable(%q, itself) = true", c)
		}
	})
}
