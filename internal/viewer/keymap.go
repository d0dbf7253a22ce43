package viewer

import (
	"unicode"
	"unicode/utf8"
)

// Limits on the strings of a key event.
const (
	maxKeyLen  = 32 // KeyboardEvent.key
	maxCodeLen = 32 // KeyboardEvent.code
)

// byCode maps KeyboardEvent.code to a keysym for keys whose meaning does not
// depend on the keyboard layout: modifiers (left and right told apart) and
// the keypad's operators.
var byCode = map[string]uint32{
	"ShiftLeft": 0xffe1, "ShiftRight": 0xffe2,
	"ControlLeft": 0xffe3, "ControlRight": 0xffe4,
	"CapsLock": 0xffe5,
	"MetaLeft": 0xffeb, "MetaRight": 0xffec, // Super_L, Super_R
	"AltLeft":     0xffe9,
	"NumpadEnter": 0xff8d, "NumpadAdd": 0xffab, "NumpadSubtract": 0xffad,
	"NumpadMultiply": 0xffaa, "NumpadDivide": 0xffaf,
}

// byKey maps KeyboardEvent.key names (UI Events KeyboardEvent key values)
// to X keysyms.
var byKey = map[string]uint32{
	"Enter": 0xff0d, "Backspace": 0xff08, "Tab": 0xff09, "Escape": 0xff1b,
	"Delete": 0xffff, "Insert": 0xff63, "Home": 0xff50, "End": 0xff57,
	"PageUp": 0xff55, "PageDown": 0xff56,
	"ArrowLeft": 0xff51, "ArrowUp": 0xff52, "ArrowRight": 0xff53, "ArrowDown": 0xff54,
	"F1": 0xffbe, "F2": 0xffbf, "F3": 0xffc0, "F4": 0xffc1, "F5": 0xffc2, "F6": 0xffc3,
	"F7": 0xffc4, "F8": 0xffc5, "F9": 0xffc6, "F10": 0xffc7, "F11": 0xffc8, "F12": 0xffc9,
	"Shift": 0xffe1, "Control": 0xffe3, "Alt": 0xffe9, "Meta": 0xffeb,
	"AltGraph": 0xfe03, // ISO_Level3_Shift
	"CapsLock": 0xffe5, "NumLock": 0xff7f, "ScrollLock": 0xff14,
	"Pause": 0xff13, "PrintScreen": 0xff61, "ContextMenu": 0xff67,
	"Clear": 0xff0b,
}

// numpadDigit maps the keypad's digit and decimal keys with Num Lock on.
var numpadDigit = map[string]uint32{
	"Numpad0": 0xffb0, "Numpad1": 0xffb1, "Numpad2": 0xffb2, "Numpad3": 0xffb3, "Numpad4": 0xffb4,
	"Numpad5": 0xffb5, "Numpad6": 0xffb6, "Numpad7": 0xffb7, "Numpad8": 0xffb8, "Numpad9": 0xffb9,
	"NumpadDecimal": 0xffae,
}

// Keysym maps a browser key event (KeyboardEvent.key and .code) to the X
// keysym to press, or reports false for a key that has none: dead keys,
// "Unidentified", composed strings, control characters and anything too
// long. Layout-independent keys (modifiers, keypad operators) go by code;
// named keys by key; a single printable character by its code point
// (Latin-1 as itself, the rest as a Unicode keysym, 0x01000000 + rune).
func Keysym(key, code string) (uint32, bool) {
	if len(key) == 0 || len(key) > maxKeyLen || len(code) > maxCodeLen {
		return 0, false
	}
	if k, ok := byCode[code]; ok {
		return k, true
	}
	if k, ok := numpadDigit[code]; ok && len(key) == 1 && (key[0] >= '0' && key[0] <= '9' || key[0] == '.' || key[0] == ',') {
		return k, true
	}
	if k, ok := byKey[key]; ok {
		return k, true
	}
	r, size := utf8.DecodeRuneInString(key)
	if size != len(key) || r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' && r != 0xa0 {
		return 0, false
	}
	if r >= 0x20 && r <= 0x7e || r >= 0xa0 && r <= 0xff {
		return uint32(r), true
	}
	return 0x01000000 | uint32(r), true
}
