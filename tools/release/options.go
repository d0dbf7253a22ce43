package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// options is one packaging run.
type options struct {
	root, bin, dist, version string
	log                      io.Writer
	// date is every file's time in archives and packages:
	// $SOURCE_DATE_EPOCH (the Makefile sets the last commit's time).
	date time.Time
	// share holds the generated man pages and completions.
	share string
}

// init makes the paths absolute, reads SOURCE_DATE_EPOCH and generates
// the man pages and completions.
func (o *options) init() error {
	for _, p := range []*string{&o.root, &o.bin, &o.dist} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	if strings.ContainsAny(o.version, "/\\ \t\n") || o.version == "" {
		return fmt.Errorf("version %q: want a non-empty word without slashes or spaces", o.version)
	}
	date, err := sourceDate()
	if err != nil {
		return err
	}
	o.date = date
	o.share = filepath.Join(o.dist, "share")
	return o.makeShare()
}

// sourceDate is $SOURCE_DATE_EPOCH; unset, the packages are stamped now
// (and are then not reproducible).
func sourceDate() (time.Time, error) {
	v := os.Getenv("SOURCE_DATE_EPOCH")
	if v == "" {
		return time.Now().UTC().Truncate(time.Second), nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH %q is not a number of seconds", v)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// release builds the archives of every DIST/build/OS_ARCH, the .deb
// packages of the linux ones, and the signed checksums.
func (o *options) release() error {
	builds, err := filepath.Glob(filepath.Join(o.dist, "build", "*_*"))
	if err != nil || len(builds) == 0 {
		return fmt.Errorf("no cross-built programs in %s/build/OS_ARCH (run make dist)", o.dist)
	}
	sort.Strings(builds)
	var outputs []string
	for _, dir := range builds {
		goos, arch, _ := strings.Cut(filepath.Base(dir), "_")
		name, err := o.archive(dir, goos, arch)
		if err != nil {
			return err
		}
		outputs = append(outputs, name)
		if goos == "linux" {
			debs, err := o.buildDebs(dir, arch)
			if err != nil {
				return err
			}
			outputs = append(outputs, debs...)
		}
	}
	return o.checksums(outputs)
}

// debs builds the .deb packages of the programs in -bin, built for this
// machine.
func (o *options) debs() error {
	if runtime.GOOS != "linux" {
		return fmt.Errorf(".deb packages are built from linux programs; this is %s (use make dist)", runtime.GOOS)
	}
	_, err := o.buildDebs(o.bin, runtime.GOARCH)
	return err
}

// programs are the three programs, in the order they are packaged.
var programs = []string{"relay", "tech", "agent"}

// exe is a program's file name on goos.
func exe(name, goos string) string {
	if goos == "windows" {
		return name + ".exe"
	}
	return name
}
