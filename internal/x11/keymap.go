package x11

import (
	"fmt"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
)

// keymap caches the server's keysym → keycode table and the spare keycodes
// (bound to no keysym) used for keysyms the table lacks.
type keymap struct {
	min, max xproto.Keycode
	stale    bool
	codes    map[uint32]xproto.Keycode
	spare    []xproto.Keycode          // unbound keycodes, not yet lent
	lent     map[uint32]xproto.Keycode // keysym → spare keycode bound by us
	lentLRU  []uint32                  // lent keysyms, least recently used first
}

// loadKeymap reads the keyboard mapping.
func loadKeymap(c *xgb.Conn, min, max xproto.Keycode) (*keymap, error) {
	km := &keymap{min: min, max: max, lent: map[uint32]xproto.Keycode{}}
	return km, km.reload(c)
}

// reload re-reads the mapping; keycodes lent to keysyms stay lent.
func (km *keymap) reload(c *xgb.Conn) error {
	count := int(km.max) - int(km.min) + 1
	r, err := xproto.GetKeyboardMapping(c, km.min, byte(count)).Reply()
	if err != nil {
		return fmt.Errorf("x11: keyboard mapping: %w", err)
	}
	per := int(r.KeysymsPerKeycode)
	km.codes = map[uint32]xproto.Keycode{}
	km.spare = km.spare[:0]
	isLent := map[xproto.Keycode]bool{}
	for _, code := range km.lent {
		isLent[code] = true
	}
	for i := 0; i < count && per > 0 && (i+1)*per <= len(r.Keysyms); i++ {
		code := xproto.Keycode(int(km.min) + i)
		syms := r.Keysyms[i*per : (i+1)*per]
		bound := false
		for _, s := range syms {
			if s == 0 {
				continue
			}
			bound = true
			if _, ok := km.codes[uint32(s)]; !ok {
				km.codes[uint32(s)] = code
			}
		}
		if !bound && !isLent[code] {
			km.spare = append(km.spare, code)
		}
	}
	km.stale = false
	return nil
}

// codeFor returns the keycode for keysym. With down and no keycode for it,
// it binds the keysym to a spare keycode (or re-binds the least recently
// used one not held); a release of an unknown keysym returns 0.
func (km *keymap) codeFor(c *xgb.Conn, keysym uint32, held map[xproto.Keycode]bool, down bool) (xproto.Keycode, error) {
	if keysym == 0 || keysym > 0x1ffffff {
		return 0, fmt.Errorf("x11: keysym %#x out of range", keysym)
	}
	if km.stale {
		if err := km.reload(c); err != nil {
			return 0, err
		}
	}
	if code, ok := km.lent[keysym]; ok {
		km.touch(keysym)
		return code, nil
	}
	if code, ok := km.codes[keysym]; ok {
		return code, nil
	}
	if !down {
		return 0, nil
	}
	code, err := km.borrow(held)
	if err != nil {
		return 0, fmt.Errorf("x11: keysym %#x: %w", keysym, err)
	}
	if err := bind(c, code, uint32(keysym)); err != nil {
		return 0, err
	}
	km.lent[keysym] = code
	km.lentLRU = append(km.lentLRU, keysym)
	return code, nil
}

// borrow takes a spare keycode, or the least recently used lent one that is
// not held down.
func (km *keymap) borrow(held map[xproto.Keycode]bool) (xproto.Keycode, error) {
	if n := len(km.spare); n > 0 {
		code := km.spare[n-1]
		km.spare = km.spare[:n-1]
		return code, nil
	}
	for i, sym := range km.lentLRU {
		if code := km.lent[sym]; !held[code] {
			km.lentLRU = append(km.lentLRU[:i], km.lentLRU[i+1:]...)
			delete(km.lent, sym)
			return code, nil
		}
	}
	return 0, fmt.Errorf("no spare keycode to bind it to")
}

// touch marks a lent keysym as just used.
func (km *keymap) touch(sym uint32) {
	for i, s := range km.lentLRU {
		if s == sym {
			km.lentLRU = append(append(km.lentLRU[:i], km.lentLRU[i+1:]...), sym)
			return
		}
	}
}

// restore unbinds every keycode lent to a keysym.
func (km *keymap) restore(c *xgb.Conn) error {
	var first error
	for sym, code := range km.lent {
		if err := bind(c, code, 0); err != nil && first == nil {
			first = err
		}
		delete(km.lent, sym)
	}
	km.lentLRU = nil
	return first
}

// bind maps keycode to keysym (both levels; 0 unbinds).
func bind(c *xgb.Conn, code xproto.Keycode, keysym uint32) error {
	syms := []xproto.Keysym{xproto.Keysym(keysym), xproto.Keysym(keysym)}
	if err := xproto.ChangeKeyboardMappingChecked(c, 1, code, 2, syms).Check(); err != nil {
		return fmt.Errorf("x11: bind keycode %d: %w", code, err)
	}
	return nil
}
