package username

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// common lists the scripts checked first, before the full table.
var common = []string{"Latin", "Cyrillic", "Greek", "Han", "Hiragana", "Katakana", "Hangul", "Arabic", "Hebrew"}

// allScripts lists every script name in unicode.Scripts, sorted, with the
// common ones first.
var allScripts = func() []string {
	names := make([]string, 0, len(unicode.Scripts))
	for name := range unicode.Scripts {
		if name != "Common" && name != "Inherited" && !slices.Contains(common, name) {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return slices.Concat(common, names)
}()

// allowedMixes are the script combinations of UTS #39 "highly restrictive":
// Latin with the scripts used together in Japanese, Chinese and Korean.
var allowedMixes = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"},
	{"Latin", "Han", "Bopomofo"},
	{"Latin", "Han", "Hangul"},
}

// scriptOf returns the script of r, or "" for Common and Inherited
// characters (digits, punctuation), which do not count.
func scriptOf(r rune) string {
	if r < utf8.RuneSelf {
		if ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') {
			return "Latin"
		}
		return ""
	}
	for _, name := range allScripts {
		if unicode.Is(unicode.Scripts[name], r) {
			return name
		}
	}
	return ""
}

// checkScripts returns ErrMixedScript if s mixes scripts in a way that
// allows look-alikes.
func checkScripts(s string) error {
	var used []string
	for _, r := range s {
		if sc := scriptOf(r); sc != "" && !slices.Contains(used, sc) {
			used = append(used, sc)
		}
	}
	if len(used) <= 1 {
		return nil
	}
	for _, mix := range allowedMixes {
		if subset(used, mix) {
			return nil
		}
	}
	slices.Sort(used)
	return fmt.Errorf("%w: %s", ErrMixedScript, strings.Join(used, ", "))
}

// subset reports whether every element of a is in b.
func subset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// checkDigits returns ErrMixedScript if s uses digits from more than one
// decimal system, such as Arabic-Indic ١ and Extended Arabic-Indic ۱, which
// look the same.
func checkDigits(s string) error {
	zero := rune(-1)
	for _, r := range s {
		if !unicode.IsDigit(r) {
			continue
		}
		z := digitZero(r)
		if zero >= 0 && z != zero {
			return fmt.Errorf("%w: digits from different number systems", ErrMixedScript)
		}
		zero = z
	}
	return nil
}

// digitZero returns the zero of the decimal system holding digit r. Decimal
// digits come in runs of ten starting at zero, and unicode.Nd ranges start
// at a zero.
func digitZero(r rune) rune {
	for _, rg := range unicode.Nd.R16 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); lo <= r && r <= hi {
			return lo + (r-lo)/10*10
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if lo, hi := rune(rg.Lo), rune(rg.Hi); lo <= r && r <= hi {
			return lo + (r-lo)/10*10
		}
	}
	return r
}
