package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/sanitize"
	"github.com/tether-support/tether/internal/tech"
)

func newCpCmd(g *globals) *cobra.Command {
	var o tech.CopyOptions
	maxSize := byteSizeFlag(tech.DefaultMaxSize)
	cmd := &cobra.Command{
		Use:   "cp [-r] [-p] [--force] [--max-size N] [--max-files N] [--session ID] SRC DST",
		Short: "Copy files to or from a device, end-to-end encrypted and SHA-256 verified",
		Long: `cp copies a file (or, with -r, a directory tree) between this machine and a
device; write the device side as DEVICE:PATH (relative to the end user's home,
which is the only folder the device allows). The end user is asked to consent
to file transfer in that direction, and sees each file as it moves. Every file
is verified by SHA-256 end to end and written atomically: an interrupted
transfer leaves nothing at the destination. Existing files are not replaced
without --force. With --session, a live session where files were already
granted is reused instead of asking again.

--path auto (the default) picks the path by the throughput of the last
transfers: the relay until it was measured, then one try of the direct
peer-to-peer path, then whichever was faster (CONFIG/path-throughput.json).
On a fast LAN the relay's TLS WebSocket usually wins for bulk data; across
sites, the direct path does. --path relay or --path direct says which.

Downloads write exactly what was asked for, and only there: one regular file
named DST (or, if DST is a folder, named as in SRC) without -r; with -r one new
folder and what is beneath it, never merged into or replacing an existing one.
The device announces the number of entries and bytes first; a download over
--max-size bytes in all or --max-files entries (files and folders) is refused
before any data arrives, and one that sends anything else than announced or
asked for (another name, a second file, unsafe or invisible characters in a
name, setuid bits, more bytes) is refused and leaves nothing behind. Files get
the permissions of new files here (0666 less the umask, never executable);
with -p they keep the device's permission bits, executable bits included.
Uploads keep the file's permission bits.`,
		Example: `  tech cp report.pdf clinic-pc-7:Documents/
  tech cp clinic-pc-7:Desktop/scan.png ./scan.png
  tech cp -r clinic-pc-7:logs ./pc7-logs
  tech cp -r --max-size 50GiB --max-files 200000 clinic-pc-7:Pictures ./pc7-pictures
  tech cp -p clinic-pc-7:bin/collect.sh .
  tech cp --session 3f2a… fix.sh clinic-pc-7:
  tech cp --path direct big.iso clinic-pc-7:`,
		Args: cobra.ExactArgs(2),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			o.Src, o.Dst = args[0], args[1]
			o.MaxSize = int64(maxSize)
			return c.Copy(cmd.Context(), o)
		}),
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Recursive, "recursive", "r", false, "copy directories recursively")
	f.BoolVarP(&o.Preserve, "preserve", "p", false, "downloads: keep the device's permission bits (executable bits included)")
	f.BoolVar(&o.Force, "force", false, "replace existing files")
	f.Var(&maxSize, "max-size", "downloads: refuse more than this many bytes in all (e.g. 500MiB, 20GiB)")
	f.Int64Var(&o.MaxFiles, "max-files", tech.DefaultMaxFiles, "downloads: refuse more than this many files and folders")
	f.StringVar(&o.Session, "session", "", "reuse the consent of this live session")
	f.StringVar(&o.Reason, "reason", "", "reason or ticket, shown to the end user and audited")
	f.StringVar(&o.Path, "path", tech.PathAuto, "auto: the path (relay or direct peer-to-peer) with the better throughput in the last transfers; relay; direct (fails if it cannot be set up)")
	return cmd
}

// byteSizeFlag is a byte count given as a number with an optional unit:
// B, KiB, MiB, GiB, TiB (K, M, G, T and KB, MB, GB, TB mean the same,
// powers of 1024).
type byteSizeFlag int64

// String shows the size in the largest whole unit.
func (b *byteSizeFlag) String() string {
	n := int64(*b)
	units := []struct {
		name string
		m    int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}
	for _, u := range units {
		if n >= u.m && n%u.m == 0 {
			return strconv.FormatInt(n/u.m, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

// Set parses a size.
func (b *byteSizeFlag) Set(s string) error {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	n, err := strconv.ParseInt(num, 10, 64)
	m, ok := byteUnits[strings.ToUpper(unit)]
	if err != nil || !ok || n <= 0 || n > (1<<62)/m {
		return fmt.Errorf("%q is not a size (write e.g. 500MiB or 20GiB)", s)
	}
	*b = byteSizeFlag(n * m)
	return nil
}

// Type names the flag's value in --help.
func (b *byteSizeFlag) Type() string { return "size" }

// byteUnits maps unit names (upper case) to their multiples.
var byteUnits = map[string]int64{
	"": 1, "B": 1,
	"K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10,
	"M": 1 << 20, "MB": 1 << 20, "MIB": 1 << 20,
	"G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30,
	"T": 1 << 40, "TB": 1 << 40, "TIB": 1 << 40,
}

func newClipboardCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "clipboard", Short: "Move text to or from a device's clipboard",
		Example: "  echo -n 'ticket 4711' | tech clipboard send clinic-pc-7\n  tech clipboard get clinic-pc-7 > clip.txt"}
	var o tech.ClipboardOptions
	send := &cobra.Command{
		Use:     "send DEVICE",
		Short:   "Set the device's clipboard to standard input (at most 32 KiB)",
		Example: `  echo -n 'ticket 4711' | tech clipboard send clinic-pc-7`,
		Args:    cobra.ExactArgs(1),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			o.Device = args[0]
			b, err := io.ReadAll(io.LimitReader(os.Stdin, protocol.MaxClipboard+1))
			if err != nil {
				return err
			}
			if err := c.ClipboardSet(cmd.Context(), o, b); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Set the clipboard on %s (%d bytes).\n", o.Device, len(b))
			return nil
		}),
	}
	get := &cobra.Command{
		Use:     "get DEVICE",
		Short:   "Print the device's clipboard",
		Example: `  tech clipboard get clinic-pc-7 > clip.txt`,
		Args:    cobra.ExactArgs(1),
		RunE: withClient(g, func(cmd *cobra.Command, c *tech.Client, args []string) error {
			o.Device = args[0]
			text, err := c.ClipboardGet(cmd.Context(), o)
			if err != nil {
				return err
			}
			if isTerminal(cmd.OutOrStdout()) {
				text = []byte(sanitize.Text(string(text)))
			}
			_, err = cmd.OutOrStdout().Write(text)
			return err
		}),
	}
	for _, c := range []*cobra.Command{send, get} {
		c.Flags().StringVar(&o.Session, "session", "", "reuse the consent of this live session")
		c.Flags().StringVar(&o.Reason, "reason", "", "reason or ticket, shown to the end user and audited")
	}
	cmd.AddCommand(send, get)
	return cmd
}
