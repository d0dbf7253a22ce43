package x11

import (
	"encoding/binary"
	"fmt"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
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

// extension is what one server said about one extension.
type extension struct {
	major      byte
	firstEvent int
	firstError int
}

// xgb decodes events and errors through process-wide tables keyed by code,
// which its extension Init functions fill with the codes of the server at
// hand. Two servers that number their extensions differently (one lacking
// MIT-SHM, say) would then overwrite each other's entries, and writing the
// tables while any connection's reader goroutine reads them is a data race.
// This package never calls those Init functions. Instead, before any
// connection exists, every extension event code (64–127) decodes to a
// rawEvent and every extension error code (128–255) to a rawError; each
// Display decodes raw events with its own server's numbering.
func init() {
	for code := 64; code < 128; code++ {
		xgb.NewEventFuncs[code] = newRawEvent
	}
	for code := 128; code < 256; code++ {
		xgb.NewErrorFuncs[code] = newRawError
	}
}

// rawEvent is an extension event, undecoded: 32 bytes.
type rawEvent []byte

func newRawEvent(buf []byte) xgb.Event { return rawEvent(append([]byte(nil), buf[:32]...)) }

// Bytes returns the event's wire bytes.
func (e rawEvent) Bytes() []byte { return e }

// String describes the event.
func (e rawEvent) String() string { return fmt.Sprintf("extension event %d", e[0]&127) }

// code is the event code without the SendEvent bit.
func (e rawEvent) code() int { return int(e[0] & 127) }

// rawError is an extension error.
type rawError []byte

func newRawError(buf []byte) xgb.Error { return rawError(append([]byte(nil), buf[:32]...)) }

// SequenceId returns the sequence number of the failed request.
func (e rawError) SequenceId() uint16 { return binary.LittleEndian.Uint16(e[2:]) }

// BadId returns the offending value.
func (e rawError) BadId() uint32 { return binary.LittleEndian.Uint32(e[4:]) }

// Error describes the error.
func (e rawError) Error() string {
	return fmt.Sprintf("X extension error %d (request %d.%d, value %#x)", e[1], e[10], binary.LittleEndian.Uint16(e[8:]), e.BadId())
}

// initExtensions queries every extension on c and records the opcodes of
// the present ones in c's table (what xgb's request functions look up).
func initExtensions(c *xgb.Conn) (map[string]extension, error) {
	cookies := make([]xproto.QueryExtensionCookie, len(extensionNames))
	for i, name := range extensionNames {
		cookies[i] = xproto.QueryExtension(c, uint16(len(name)), name)
	}
	present := map[string]extension{}
	for i, name := range extensionNames {
		r, err := cookies[i].Reply()
		if err != nil {
			return nil, fmt.Errorf("x11: query extension %s: %w", name, err)
		}
		if !r.Present {
			continue
		}
		present[name] = extension{major: r.MajorOpcode, firstEvent: int(r.FirstEvent), firstError: int(r.FirstError)}
		c.ExtLock.Lock()
		c.Extensions[name] = r.MajorOpcode
		c.ExtLock.Unlock()
	}
	return present, nil
}
