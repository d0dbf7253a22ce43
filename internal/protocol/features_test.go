package protocol

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestParseFeatures covers what the InFeatures decoder accepts and refuses.
func TestParseFeatures(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", MaxFeatureName)
	many := make([]string, MaxFeatures)
	for i := range many {
		many[i] = `"f` + strings.Repeat("x", i) + `"`
	}
	tooMany := append(slices.Clone(many), `"z"`)
	cases := []struct {
		name    string
		payload string
		want    []string // nil with ok: the empty set
		ok      bool
	}{
		{"one name", `{"features":["path-switch"]}`, []string{"path-switch"}, true},
		{"sorted on decode", `{"features":["b.2","a-1","0"]}`, []string{"0", "a-1", "b.2"}, true},
		{"empty list", `{"features":[]}`, nil, true},
		{"missing list", `{}`, nil, true},
		{"null list", `{"features":null}`, nil, true},
		{"unknown field ignored", `{"features":["x"],"later":{"a":1}}`, []string{"x"}, true},
		{"key of another case is another key", `{"Features":["x"]}`, nil, true},
		{"longest name", `{"features":["` + long + `"]}`, []string{long}, true},
		{"most names", `{"features":[` + strings.Join(many, ",") + `]}`, nil, true},
		{"too many names", `{"features":[` + strings.Join(tooMany, ",") + `]}`, nil, false},
		{"name too long", `{"features":["` + long + `a"]}`, nil, false},
		{"empty name", `{"features":[""]}`, nil, false},
		{"upper case", `{"features":["Path-switch"]}`, nil, false},
		{"space", `{"features":["path switch"]}`, nil, false},
		{"underscore", `{"features":["path_switch"]}`, nil, false},
		{"non-ASCII", `{"features":["pa\u00e9"]}`, nil, false},
		{"NUL", `{"features":["a\u0000"]}`, nil, false},
		{"duplicate", `{"features":["a","b","a"]}`, nil, false},
		{"not strings", `{"features":[1]}`, nil, false},
		{"not an array", `{"features":"a"}`, nil, false},
		{"array payload", `["a"]`, nil, false},
		{"null payload", `null`, nil, false},
		{"empty payload", ``, nil, false},
		{"trailing data", `{"features":[]} {}`, nil, false},
		{"not JSON", `features=a`, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := ParseFeatures([]byte(tc.payload))
			if !tc.ok {
				if !errors.Is(err, ErrBadInner) {
					t.Fatalf("got %v, %v; want ErrBadInner", f.Names(), err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "most names" {
				if f.Len() != MaxFeatures {
					t.Fatalf("got %d names, want %d", f.Len(), MaxFeatures)
				}
				return
			}
			if got := f.Names(); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestFeaturesSet checks the set operations and the encoder.
func TestFeaturesSet(t *testing.T) {
	t.Parallel()
	mine := MustFeatures(FeaturePathSwitch, "test.only", "mine")
	theirs := MustFeatures("test.only", FeaturePathSwitch, "theirs-unknown-to-me")
	both := mine.Intersect(theirs)
	if got, want := both.Names(), []string{FeaturePathSwitch, "test.only"}; !slices.Equal(got, want) {
		t.Fatalf("intersection: got %q, want %q", got, want)
	}
	if !both.Has("test.only") || both.Has("mine") || both.Has("theirs-unknown-to-me") || both.Has("") {
		t.Fatalf("Has on %v gives the wrong answers", both)
	}
	if got := theirs.Intersect(mine).Names(); !slices.Equal(got, both.Names()) {
		t.Fatalf("intersection is not symmetric: %q vs %q", got, both.Names())
	}
	var none Features
	if none.Has(FeaturePathSwitch) || none.Len() != 0 || mine.Intersect(none).Len() != 0 {
		t.Fatal("the zero Features is not the empty set")
	}
	for _, f := range []Features{none, mine} {
		msg, err := AppendFeatures(nil, f)
		if err != nil {
			t.Fatal(err)
		}
		typ, p, err := ParseInner(msg)
		if err != nil || typ != InFeatures {
			t.Fatalf("ParseInner: %v %v", typ, err)
		}
		back, err := ParseFeatures(p)
		if err != nil || !slices.Equal(back.Names(), f.Names()) {
			t.Fatalf("round trip of %q: got %q, %v", f.Names(), back.Names(), err)
		}
	}
	if msg, _ := AppendFeatures(nil, none); string(msg[1:]) != `{"features":[]}` {
		t.Fatalf("empty list encodes as %q", msg[1:])
	}
	for _, bad := range [][]string{{"a", "a"}, {"A"}, {""}, make([]string, MaxFeatures+1)} {
		if _, err := NewFeatures(bad...); !errors.Is(err, ErrBadInner) {
			t.Errorf("NewFeatures(%q): got %v, want ErrBadInner", bad, err)
		}
	}
}

// FuzzParseFeatures checks the InFeatures decoder never panics, that what
// it accepts obeys the limits, and that it re-encodes to the same set.
func FuzzParseFeatures(f *testing.F) {
	f.Add([]byte(`{"features":["path-switch"]}`))
	f.Add([]byte(`{"features":[]}`))
	f.Add([]byte(`{"features":["a","a"]}`))
	f.Fuzz(func(t *testing.T, p []byte) {
		got, err := ParseFeatures(p)
		if err != nil {
			if !errors.Is(err, ErrBadInner) {
				t.Fatalf("refusal is not ErrBadInner: %v", err)
			}
			return
		}
		names := got.Names()
		if len(names) > MaxFeatures {
			t.Fatalf("accepted %d names", len(names))
		}
		for i, n := range names {
			if checkFeatureName(n) != nil || (i > 0 && names[i-1] >= n) {
				t.Fatalf("accepted %q (names %q)", n, names)
			}
			if !got.Has(n) {
				t.Fatalf("Has(%q) false for an accepted name", n)
			}
		}
		msg, err := AppendFeatures(nil, got)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseFeatures(msg[1:])
		if err != nil || !slices.Equal(back.Names(), names) {
			t.Fatalf("re-encoding of %q gives %q, %v", names, back.Names(), err)
		}
	})
}
