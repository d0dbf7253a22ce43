package viewer

import "testing"

func TestKeysym(t *testing.T) {
	cases := []struct {
		key, code string
		want      uint32
		ok        bool
	}{
		{"a", "KeyA", 'a', true},
		{"A", "KeyA", 'A', true},
		{" ", "Space", 0x20, true},
		{"1", "Digit1", '1', true},
		{"~", "Backquote", '~', true},
		{"é", "KeyE", 0xe9, true},
		{"ß", "Minus", 0xdf, true},
		{"€", "KeyE", 0x010020ac, true},
		{"ж", "Semicolon", 0x01000436, true},
		{"😀", "", 0x0101f600, true},
		{"Enter", "Enter", 0xff0d, true},
		{"Enter", "NumpadEnter", 0xff8d, true},
		{"Backspace", "Backspace", 0xff08, true},
		{"Tab", "Tab", 0xff09, true},
		{"Escape", "Escape", 0xff1b, true},
		{"ArrowLeft", "ArrowLeft", 0xff51, true},
		{"F12", "F12", 0xffc9, true},
		{"Shift", "ShiftLeft", 0xffe1, true},
		{"Shift", "ShiftRight", 0xffe2, true},
		{"Control", "ControlRight", 0xffe4, true},
		{"Alt", "AltLeft", 0xffe9, true},
		{"AltGraph", "AltRight", 0xfe03, true},
		{"Meta", "MetaLeft", 0xffeb, true},
		{"7", "Numpad7", 0xffb7, true},
		{"Home", "Numpad7", 0xff50, true}, // Num Lock off
		{"+", "NumpadAdd", 0xffab, true},
		{"Dead", "Quote", 0, false},
		{"Unidentified", "", 0, false},
		{"", "KeyA", 0, false},
		{"ab", "KeyA", 0, false},   // composed string
		{"\x00", "KeyA", 0, false}, // control character
		{"\x7f", "", 0, false},
		{"\u200b", "", 0, false},   // zero-width space: not printable
		{"\xff", "KeyA", 0, false}, // not UTF-8
		{"a", "KeyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0, false},
		{"Enter\x00Enter\x00Enter\x00Enter\x00Enter\x00Enter\x00", "Enter", 0, false},
	}
	for _, c := range cases {
		got, ok := Keysym(c.key, c.code)
		if got != c.want || ok != c.ok {
			t.Errorf("Keysym(%q, %q) = %#x, %v; want %#x, %v", c.key, c.code, got, ok, c.want, c.ok)
		}
	}
}

// TestKeysymTables checks every table entry is a valid X keysym in the
// ranges X reserves for function and modifier keys.
func TestKeysymTables(t *testing.T) {
	for _, m := range []map[string]uint32{byCode, byKey, numpadDigit} {
		for name, k := range m {
			if k < 0xfe00 || k > 0xffff {
				t.Errorf("%s maps to %#x, outside the function keysyms", name, k)
			}
			if len(name) > maxKeyLen || len(name) > maxCodeLen {
				t.Errorf("%s is longer than a key or code may be", name)
			}
		}
	}
}
