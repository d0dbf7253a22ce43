package main

import (
	"fmt"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// redirectBound is how long the redirect file is kept when no page attaches
// (a browser that never started, or one that cannot read the file); a
// variable so that tests can shorten it.
var redirectBound = 30 * time.Second

// openBrowser opens the page at pageURL (a secret: it carries the page's
// token) in the technician's browser without putting the address on the
// browser's command line, where every local user could read it in /proc.
// It writes a small HTML file that redirects to pageURL (mode 0600, in a
// fresh 0700 directory), starts $BROWSER (a colon-separated list of
// commands, %s standing for the file's URL) or else xdg-open on that file,
// and removes the file once attached is closed (the page attached) or
// after redirectBound. The returned cleanup removes it at once; it is safe
// to call more than once.
func openBrowser(pageURL string, attached <-chan struct{}) (cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "tether-view-")
	if err != nil {
		return nil, fmt.Errorf("make the browser's redirect file: %w", err)
	}
	var once sync.Once
	cleanup = func() { once.Do(func() { _ = os.RemoveAll(dir) }) }
	file := filepath.Join(dir, "view.html")
	if err := writeRedirect(file, pageURL); err != nil {
		cleanup()
		return nil, err
	}
	if err := startBrowser((&url.URL{Scheme: "file", Path: file}).String()); err != nil {
		cleanup()
		return nil, err
	}
	bound := redirectBound
	go func() {
		t := time.NewTimer(bound)
		defer t.Stop()
		select {
		case <-attached:
		case <-t.C:
		}
		cleanup()
	}()
	return cleanup, nil
}

// writeRedirect writes an HTML page that replaces itself with target
// (meta refresh, and location.replace so that the file stays out of the
// tab's history), readable by the owner only.
func writeRedirect(file, target string) error {
	attr := html.EscapeString(target)
	page := "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n" +
		"<meta name=\"referrer\" content=\"no-referrer\">\n" +
		"<meta http-equiv=\"refresh\" content=\"0; url=" + attr + "\">\n" +
		"<title>Tether viewer</title>\n" +
		"<script>location.replace(" + jsString(target) + ");</script>\n" +
		"</head><body><p><a href=\"" + attr + "\">Open the Tether viewer</a></p></body></html>\n"
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("make the browser's redirect file: %w", err)
	}
	if _, err := f.WriteString(page); err != nil {
		f.Close()
		return fmt.Errorf("write the browser's redirect file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the browser's redirect file: %w", err)
	}
	return nil
}

// jsString quotes s as a JavaScript string literal safe inside a <script>
// element (the page's address holds only URL characters, but nothing here
// relies on that).
func jsString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			strings.ContainsRune(":/.-_~?=&%#+", r):
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// startBrowser starts $BROWSER's first command that starts, or else
// xdg-open, on target, without waiting for it.
func startBrowser(target string) error {
	var cmds [][]string
	for _, b := range strings.Split(os.Getenv("BROWSER"), ":") {
		if f := strings.Fields(b); len(f) > 0 {
			if !strings.Contains(b, "%s") {
				f = append(f, "%s")
			}
			for i := range f {
				f[i] = strings.ReplaceAll(f[i], "%s", target)
			}
			cmds = append(cmds, f)
		}
	}
	cmds = append(cmds, []string{"xdg-open", target})
	var firstErr error
	for _, argv := range cmds {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
		if err := cmd.Start(); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		go func() { _ = cmd.Wait() }()
		return nil
	}
	return firstErr
}
