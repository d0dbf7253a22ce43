package x11ui

import (
	"fmt"

	"github.com/jezek/xgb/xproto"
)

// The global hotkey that ends the session: Ctrl+Alt+Shift+E. Four
// modifiers make a clash with an application's shortcut unlikely, and the
// key is grabbed only while a desktop session is live.
const (
	// Hotkey is how the hotkey is written for the end user.
	Hotkey = "Ctrl+Alt+Shift+E"

	hotkeySym  = 0x65 // XK_e
	hotkeyMods = xproto.ModMaskControl | xproto.ModMask1 | xproto.ModMaskShift

	xkNumLock = 0xff7f
)

// hotkey is the grabbed key.
type hotkey struct {
	code xproto.Keycode
	num  uint16   // the Num Lock modifier mask, 0 when none
	mods []uint16 // every grabbed modifier combination
}

// hotkeyBinding returns the keycode of the hotkey and the Num Lock mask the
// keyboard map has now.
func hotkeyBinding(s *surface) (xproto.Keycode, uint16, error) {
	setup := xproto.Setup(s.conn)
	code, err := keycodeFor(s, setup, hotkeySym)
	if err != nil {
		return 0, 0, err
	}
	return code, numLockMask(s, setup), nil
}

// stale reports whether the keyboard map moved the hotkey or Num Lock
// since h was grabbed. (The server also sends MappingNotify when input
// switches between devices, XTEST's included, without changing anything.)
func (h *hotkey) stale(s *surface) bool {
	code, num, err := hotkeyBinding(s)
	return h == nil || err != nil || code != h.code || num != h.num
}

// grabHotkey grabs Ctrl+Alt+Shift+E on the root window, once with each
// combination of the lock modifiers (Caps Lock, Num Lock) that do not
// change what the user means. It fails when the key is missing from the
// keyboard map or another client grabbed it first.
func grabHotkey(s *surface) (*hotkey, error) {
	code, num, err := hotkeyBinding(s)
	if err != nil {
		return nil, err
	}
	locks := []uint16{0, xproto.ModMaskLock}
	if num != 0 {
		locks = append(locks, num, num|xproto.ModMaskLock)
	}
	h := &hotkey{code: code, num: num}
	for _, l := range locks {
		m := uint16(hotkeyMods) | l
		err := xproto.GrabKeyChecked(s.conn, true, s.scr.Root, m, code, xproto.GrabModeAsync, xproto.GrabModeAsync).Check()
		if err != nil {
			h.ungrab(s)
			return nil, fmt.Errorf("x11ui: grab %s: %w (another program holds it)", Hotkey, err)
		}
		h.mods = append(h.mods, m)
	}
	return h, nil
}

// matches reports whether a key press on the root is the hotkey.
func (h *hotkey) matches(ev xproto.KeyPressEvent) bool {
	return h != nil && ev.Detail == h.code && ev.State&hotkeyMods == hotkeyMods
}

// ungrab releases every grabbed combination.
func (h *hotkey) ungrab(s *surface) {
	if h == nil {
		return
	}
	for _, m := range h.mods {
		xproto.UngrabKey(s.conn, h.code, s.scr.Root, m)
	}
	h.mods = nil
}

// keycodeFor returns the first keycode the keyboard map binds to sym.
func keycodeFor(s *surface, setup *xproto.SetupInfo, sym xproto.Keysym) (xproto.Keycode, error) {
	count := byte(int(setup.MaxKeycode) - int(setup.MinKeycode) + 1)
	km, err := xproto.GetKeyboardMapping(s.conn, setup.MinKeycode, count).Reply()
	if err != nil {
		return 0, fmt.Errorf("x11ui: keyboard map: %w", err)
	}
	per := int(km.KeysymsPerKeycode)
	for i := 0; per > 0 && i*per < len(km.Keysyms); i++ {
		for _, k := range km.Keysyms[i*per : min((i+1)*per, len(km.Keysyms))] {
			if k == sym {
				return xproto.Keycode(int(setup.MinKeycode) + i), nil
			}
		}
	}
	return 0, fmt.Errorf("x11ui: the keyboard map has no key for %s", Hotkey)
}

// numLockMask returns the modifier mask Num Lock is bound to, or 0.
func numLockMask(s *surface, setup *xproto.SetupInfo) uint16 {
	num, err := keycodeFor(s, setup, xkNumLock)
	if err != nil {
		return 0
	}
	mm, err := xproto.GetModifierMapping(s.conn).Reply()
	if err != nil {
		return 0
	}
	per := int(mm.KeycodesPerModifier)
	for mod := 0; mod < 8; mod++ {
		for i := 0; i < per && mod*per+i < len(mm.Keycodes); i++ {
			if mm.Keycodes[mod*per+i] == num {
				return 1 << mod
			}
		}
	}
	return 0
}
