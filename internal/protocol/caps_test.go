package protocol

import (
	"slices"
	"testing"
)

func TestNormalizeCaps(t *testing.T) {
	for _, tc := range []struct {
		in, want []string
	}{
		{nil, []string{}},
		{[]string{CapShell}, []string{CapShell}},
		{[]string{CapScreenControl}, []string{CapScreenView, CapScreenControl}},
		{[]string{CapShell, CapScreenControl, CapShell}, []string{CapShell, CapScreenView, CapScreenControl}},
		{[]string{CapScreenControl, CapScreenView}, []string{CapScreenControl, CapScreenView}},
		{[]string{CapScreenView}, []string{CapScreenView}},
	} {
		if got := NormalizeCaps(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("NormalizeCaps(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		granted []string
		want    string
		ok      bool
	}{
		{[]string{CapScreenControl}, CapScreenView, true},
		{[]string{CapScreenView}, CapScreenControl, false},
		{[]string{CapFiles}, CapFilesTo, true},
		{[]string{CapFilesTo}, CapFiles, false},
		{[]string{CapShell}, CapScreenView, false},
		{nil, CapShell, false},
	} {
		if got := Covers(tc.granted, tc.want); got != tc.ok {
			t.Errorf("Covers(%q, %q) = %v, want %v", tc.granted, tc.want, got, tc.ok)
		}
	}
}

func TestKnownCapability(t *testing.T) {
	for _, c := range Capabilities() {
		if !KnownCapability(c) {
			t.Errorf("%q not known", c)
		}
	}
	for _, c := range []string{"", "screen", "Screen-View", "screen-view ", "*"} {
		if KnownCapability(c) {
			t.Errorf("%q known", c)
		}
	}
}
