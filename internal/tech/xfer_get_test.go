package tech

import (
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tether-support/tether/internal/protocol"
)

// msgTypes maps a record's type byte to the messages a device sends.
var msgTypes = []protocol.InnerType{protocol.InFileHeader, protocol.InFileData, protocol.InFileDone, protocol.InFileResult}

// records splits fuzz input into messages: type (1 byte, modulo the four
// file messages) ‖ length (2 bytes, BE) ‖ payload. File data gets the
// operation ID prepended, so the fuzzer reaches past it.
func records(b []byte) []inMsg {
	var out []inMsg
	for len(b) >= 3 {
		t := msgTypes[int(b[0])%len(msgTypes)]
		n := min(int(binary.BigEndian.Uint16(b[1:3])), len(b)-3)
		p := b[3 : 3+n]
		b = b[3+n:]
		if t == protocol.InFileData {
			p = protocol.AppendFileData(nil, 1, p)[1:]
		}
		out = append(out, inMsg{t: t, p: p})
	}
	return out
}

// FuzzDownload feeds arbitrary device messages to a download into a
// folder holding one file, beside a folder outside it. Whatever the
// device sends: nothing changes outside, nothing is left but the one
// final name (and only on success), and no file gains setuid, setgid,
// sticky or (without -p) executable bits.
func FuzzDownload(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte, recursive bool) {
		base := t.TempDir()
		dst, outside := filepath.Join(base, "dst"), filepath.Join(base, "outside")
		for _, d := range []string{dst, outside} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		os.WriteFile(filepath.Join(dst, "keep"), []byte("keep"), 0o644)
		x := &xfer{c: &Client{}, sc: &LiveSession{info: &protocol.SessionInfo{DeviceName: "dev"}}}
		g, err := x.newGet(getOptions{src: "Desktop/scan.png", dst: dst, recursive: recursive, maxSize: 1 << 20, maxFiles: 100})
		if err != nil {
			t.Fatal(err)
		}
		var done bool
		for _, m := range records(in) {
			if done, err = g.handle(1, m); err != nil || done {
				break
			}
		}
		g.abort()
		g.root.Close()
		ok := done && err == nil
		if ents, _ := os.ReadDir(outside); len(ents) != 0 {
			t.Fatalf("something was written outside: %v", ents)
		}
		ents, _ := os.ReadDir(dst)
		for _, e := range ents {
			if e.Name() != "keep" && (!ok || e.Name() != "scan.png") {
				t.Fatalf("left %q in the destination (done %v, err %v)", e.Name(), done, err)
			}
		}
		filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			fi, err := os.Lstat(p)
			if err == nil && (fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky|fs.ModeSymlink) != 0 || fi.Mode().IsRegular() && fi.Mode()&0o111 != 0) {
				t.Fatalf("%s has mode %v", p, fi.Mode())
			}
			return nil
		})
		var pe *protoError
		if err != nil && errors.As(err, &pe) && strings.ContainsAny(pe.msg, "\x1b\x00\n\u202e") {
			t.Fatalf("unsafe refusal text %q", pe.msg)
		}
	})
}
