package username

import "strings"

// Skeleton returns the confusable skeleton of s after Unicode Technical
// Standard #39 section 4: two strings that look alike have the same
// skeleton, so "аdmin" with a Cyrillic а, "αdmin" with a Greek alpha and
// "admin" all give the same one. Each character is replaced by its
// prototype from the table in confusables.go; as usernames are compared
// ignoring case, the result is then lower-cased and mapped once more, so
// that a capital look-alike (Cyrillic А) and a small one (а) meet.
//
// Differences from the standard, all on the side of a smaller table:
// there is no NFD step (precomposed Cyrillic and Greek letters are mapped
// directly, see the table), the table is a subset of confusables.txt, and
// ASCII digits are confusable exactly as the standard says: 0 with O and o,
// 1 with l and I, so "r00t" looks like "root" and "a1ice" like "alice", but
// "adm1n" does not look like "admin" (1 is confused with l, not i).
//
// A skeleton is only for comparison: it is never shown or stored as a name.
// Skeleton accepts any string, valid UTF-8 or not.
func Skeleton(s string) string {
	return strings.ToLower(mapConfusables(strings.ToLower(mapConfusables(s))))
}

// mapConfusables replaces every character of s that has an entry in the
// confusables table by its prototype.
func mapConfusables(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if p, ok := confusables[r]; ok {
			b.WriteString(p)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Confusable reports whether a and b are different names that look alike:
// their skeletons are equal although they are not. Names are compared as
// given; pass canonical forms (see Canonical) to ignore case and width.
func Confusable(a, b string) bool {
	return a != b && Skeleton(a) == Skeleton(b)
}
