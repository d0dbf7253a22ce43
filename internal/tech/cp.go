package tech

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tether-support/tether/internal/protocol"
)

// CopyOptions are the arguments and flags of `tech cp`.
type CopyOptions struct {
	Src, Dst  string
	Recursive bool
	Force     bool
	// Session reuses a live session's consent (tech cp --session ID).
	Session string
	Reason  string
	// Preserve keeps the device's permission bits on downloads (-p),
	// executable bits included; without it files get 0666 less the umask.
	// Setuid, setgid and sticky bits are never accepted.
	Preserve bool
	// MaxSize and MaxFiles bound one download: its total bytes and its
	// entries (files and folders). Zero means DefaultMaxSize and
	// DefaultMaxFiles.
	MaxSize, MaxFiles int64
	// Path is PathAuto (default: the path with the better throughput the
	// last transfers measured), PathRelay or PathDirect.
	Path string
}

// Copy moves files between this machine and a device through the
// end-to-end channel; exactly one of Src and Dst is "DEVICE:PATH". Besides
// the session's events it reports Progress for every file, FileCopied for
// each verified one, FileSkipped and CapRevoked.
func (c *Client) Copy(ctx context.Context, o CopyOptions) error {
	sdev, spath, sremote := splitRemote(o.Src)
	ddev, dpath, dremote := splitRemote(o.Dst)
	switch {
	case sremote && dremote:
		return errors.New("both sides are remote; copy between a device and this machine")
	case !sremote && !dremote:
		return errors.New("neither side is remote; write the device side as DEVICE:PATH")
	}
	dev, capability := ddev, protocol.CapFilesTo
	if sremote {
		dev, capability = sdev, protocol.CapFilesFrom
	}
	if !sremote {
		if _, err := localSource(o.Src, o.Recursive); err != nil {
			return err
		}
	}
	mode := o.Path
	if mode == "" || mode == PathAuto {
		mode = c.bulkPath()
	}
	sc, err := c.Open(ctx, SessionRequest{Device: dev, Caps: []string{capability}, Parent: o.Session, Reason: o.Reason, Path: mode})
	if err != nil {
		return err
	}
	defer sc.Close()
	x := newXfer(c, sc)
	go x.dispatch(ctx)
	if err := sc.WaitPath(ctx); err != nil && mode == PathDirect {
		sc.End("the direct path could not be set up")
		return fmt.Errorf("%w: %v", ErrNoDirect, err)
	}
	start := time.Now()
	if sremote {
		err = x.download(ctx, o.getOptions(spath))
	} else {
		err = x.upload(ctx, o.Src, dpath, o.Recursive, o.Force)
	}
	if err != nil {
		sc.End("file transfer failed")
		return err
	}
	c.noteThroughput(sc.Path(), x.moved.Load(), time.Since(start))
	sc.End("file transfer complete")
	return nil
}

// getOptions are the download options for device path src.
func (o CopyOptions) getOptions(src string) getOptions {
	g := getOptions{src: src, dst: o.Dst, recursive: o.Recursive, force: o.Force, preserve: o.Preserve,
		maxSize: o.MaxSize, maxFiles: o.MaxFiles}
	if g.maxSize <= 0 {
		g.maxSize = DefaultMaxSize
	}
	if g.maxFiles <= 0 {
		g.maxFiles = DefaultMaxFiles
	}
	return g
}

// splitRemote splits "DEVICE:PATH". A path with a slash before the colon,
// or starting with "." or "/", is local.
func splitRemote(s string) (dev, path string, ok bool) {
	i := strings.IndexByte(s, ':')
	if i <= 0 || strings.ContainsAny(s[:i], `/\`) || strings.HasPrefix(s, ".") {
		return "", s, false
	}
	return s[:i], s[i+1:], true
}

// localSource checks a local source before anything is asked of anyone.
func localSource(p string, recursive bool) (os.FileInfo, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", p, err)
	}
	if fi.IsDir() && !recursive {
		return nil, fmt.Errorf("%s is a directory (use -r)", p)
	}
	if !fi.IsDir() && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", p)
	}
	return fi, nil
}

// remoteJoin joins device path components with slashes.
func remoteJoin(dir, name string) string {
	if dir == "" {
		return name
	}
	return strings.TrimSuffix(dir, "/") + "/" + name
}

// baseName is the last element of a local path.
func baseName(p string) string { return filepath.Base(filepath.Clean(p)) }
