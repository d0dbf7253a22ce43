package x11

import (
	"fmt"
	"sync"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	// The extension packages register their event and error decoders in
	// xgb's tables at init; initExtensions installs them per server.
	_ "github.com/jezek/xgb/damage"
	_ "github.com/jezek/xgb/randr"
	_ "github.com/jezek/xgb/shm"
	_ "github.com/jezek/xgb/xfixes"
	_ "github.com/jezek/xgb/xtest"
)

// Extension names as the server knows them.
const (
	extShm    = "MIT-SHM"
	extDamage = "DAMAGE"
	extFixes  = "XFIXES"
	extRandr  = "RANDR"
	extTest   = "XTEST"
)

// extensionNames lists every extension this package uses.
var extensionNames = []string{extShm, extDamage, extFixes, extRandr, extTest}

// xgb's per-extension Init functions write process-wide decoder tables
// (xgb.NewEventFuncs, xgb.NewErrorFuncs) that every connection's reader
// goroutine reads without a lock, so calling them on a live connection is a
// data race. initExtensions does Init's work instead and writes an entry
// only the first time it is needed (on the first connection, before any
// events were selected); later connections to servers that number their
// extension events the same — every server of one build — write nothing.
// All X connections of the process must therefore come from Dial or Open.
var (
	extMu      sync.Mutex
	registered = map[string]string{} // "ev:N" / "err:N" → extension name
)

// initExtensions queries every extension on c, records the opcodes of the
// present ones in c's table and returns the set of present names.
func initExtensions(c *xgb.Conn) (map[string]bool, error) {
	cookies := make([]xproto.QueryExtensionCookie, len(extensionNames))
	for i, name := range extensionNames {
		cookies[i] = xproto.QueryExtension(c, uint16(len(name)), name)
	}
	present := map[string]bool{}
	for i, name := range extensionNames {
		r, err := cookies[i].Reply()
		if err != nil {
			return nil, fmt.Errorf("x11: query extension %s: %w", name, err)
		}
		if !r.Present {
			continue
		}
		present[name] = true
		c.ExtLock.Lock()
		c.Extensions[name] = r.MajorOpcode
		c.ExtLock.Unlock()
		registerDecoders(name, int(r.FirstEvent), int(r.FirstError))
	}
	return present, nil
}

// registerDecoders installs name's event and error decoders at the codes
// this server gave them, unless they are there already.
func registerDecoders(name string, firstEvent, firstError int) {
	extMu.Lock()
	defer extMu.Unlock()
	for n, fun := range xgb.NewExtEventFuncs[name] {
		key := fmt.Sprintf("ev:%d", firstEvent+n)
		if registered[key] != name {
			xgb.NewEventFuncs[firstEvent+n] = fun
			registered[key] = name
		}
	}
	for n, fun := range xgb.NewExtErrorFuncs[name] {
		key := fmt.Sprintf("err:%d", firstError+n)
		if registered[key] != name {
			xgb.NewErrorFuncs[firstError+n] = fun
			registered[key] = name
		}
	}
}
