package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
)

// maintainer is the Maintainer field of the packages; DEB_MAINTAINER
// overrides it.
const maintainer = "Tether maintainers <maintainers@tether-support.invalid>"

// debPackage describes one .deb: its programs and what comes with them.
type debPackage struct {
	name, description string
	programs          []string
	units             map[string]string // packaging/ file -> installed path (units, sysusers.d)
	config            map[string]string // packaging/ file -> installed conffile
	postinst, prerm   string            // packaging/ scripts
	suggests          []string
}

var debPackages = []debPackage{
	{
		name: "tether-relay",
		description: "Tether relay: consented, end-to-end encrypted remote support (server)\n" +
			"The relay authenticates technicians and enrolled devices and brokers\n" +
			"sessions whose contents it cannot read; tech is the technician's and\n" +
			"administrator's command line. Ships the tether-relay systemd service.",
		programs: []string{"relay", "tech"},
		units: map[string]string{
			"packaging/systemd/tether-relay.service": "/usr/lib/systemd/system/tether-relay.service",
			"packaging/sysusers/tether-relay.conf":   "/usr/lib/sysusers.d/tether-relay.conf",
		},
		config:   map[string]string{"packaging/default/tether-relay": "/etc/default/tether-relay"},
		postinst: "packaging/deb/relay-postinst.sh",
		prerm:    "packaging/deb/relay-prerm.sh",
	},
	{
		name: "tether-agent",
		description: "Tether agent: consented, end-to-end encrypted remote support (device)\n" +
			"The agent runs on the supported machine: every session and capability\n" +
			"needs the end user's consent, and the screen is locked when a session\n" +
			"ends. Ships the tether-agent systemd user service.",
		programs: []string{"agent"},
		units:    map[string]string{"packaging/systemd/tether-agent.service": "/usr/lib/systemd/user/tether-agent.service"},
		postinst: "packaging/deb/agent-postinst.sh",
		suggests: []string{"xclip | wl-clipboard"},
	},
}

// buildDebs writes the .deb packages for arch from the linux programs in
// binDir, and returns their file names.
func (o *options) buildDebs(binDir, arch string) ([]string, error) {
	stage, err := os.MkdirTemp("", "tether-deb-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(stage)
	var names []string
	for _, p := range debPackages {
		name, err := o.buildDeb(p, binDir, arch, stage)
		if err != nil {
			return nil, fmt.Errorf("package %s (%s): %w", p.name, arch, err)
		}
		fmt.Fprintf(o.log, "wrote %s\n", name)
		names = append(names, name)
	}
	return names, nil
}

// buildDeb writes one package with nfpm.
func (o *options) buildDeb(p debPackage, binDir, arch, stage string) (string, error) {
	contents, err := o.debContents(p, binDir, stage)
	if err != nil {
		return "", err
	}
	m := maintainer
	if v := os.Getenv("DEB_MAINTAINER"); v != "" {
		m = v
	}
	info := &nfpm.Info{
		Name: p.name, Arch: arch, Platform: "linux",
		Version: debVersion(o.version), VersionSchema: "none",
		Section: "net", Priority: "optional", Maintainer: m,
		Description: p.description, Homepage: "https://github.com/tether-support/tether",
		MTime: o.date,
		Overridables: nfpm.Overridables{
			Contents: contents,
			Suggests: p.suggests,
			Scripts: nfpm.Scripts{
				PostInstall: filepath.Join(o.root, p.postinst),
				PostRemove:  filepath.Join(o.root, "packaging/deb/postrm.sh"),
			},
		},
	}
	if p.prerm != "" {
		info.Scripts.PreRemove = filepath.Join(o.root, p.prerm)
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.Validate(info); err != nil {
		return "", err
	}
	name := fmt.Sprintf("%s_%s_%s.deb", p.name, info.Version, arch)
	return name, writeFile(filepath.Join(o.dist, name), func(w io.Writer) error { return deb.Default.Package(info, w) })
}

// debContents lists a package's files: programs, units, conffiles, gzipped
// man pages, completions and docs.
func (o *options) debContents(p debPackage, binDir, stage string) (files.Contents, error) {
	var c files.Contents
	add := func(src, dst string, mode os.FileMode, typ string) {
		c = append(c, &files.Content{Source: src, Destination: dst, Type: typ,
			FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode, MTime: o.date}})
	}
	for _, prog := range p.programs {
		add(filepath.Join(binDir, prog), "/usr/bin/"+prog, 0o755, "")
		pages, err := o.manPages(prog)
		if err != nil {
			return nil, err
		}
		for _, page := range pages {
			gz, err := gzipFile(page, stage)
			if err != nil {
				return nil, err
			}
			add(gz, "/usr/share/man/man1/"+filepath.Base(gz), 0o644, "")
		}
		for _, comp := range completions {
			if comp.debDir != "" {
				add(filepath.Join(o.share, "completions", comp.shell, comp.file(prog)), comp.debDir+"/"+comp.file(prog), 0o644, "")
			}
		}
	}
	for src, dst := range p.units {
		add(filepath.Join(o.root, src), dst, 0o644, "")
	}
	for src, dst := range p.config {
		add(filepath.Join(o.root, src), dst, 0o644, files.TypeConfigNoReplace)
	}
	doc := "/usr/share/doc/" + p.name
	for _, d := range []string{"README.md", "docs/operations.md", "docs/cli.md"} {
		add(filepath.Join(o.root, d), doc+"/"+filepath.Base(d), 0o644, "")
	}
	var bins []string
	for _, prog := range p.programs {
		bins = append(bins, filepath.Join(binDir, prog))
	}
	text, err := notices(bins)
	if err != nil {
		return nil, err
	}
	copyright := filepath.Join(stage, p.name+".copyright")
	if err := os.WriteFile(copyright, text, 0o644); err != nil {
		return nil, err
	}
	add(copyright, doc+"/copyright", 0o644, "")
	return c, nil
}

// gzipFile writes stage/BASE.gz, compressed without a name or time in its
// header, and returns its path.
func gzipFile(src, stage string) (string, error) {
	data, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	gz, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	gz.Write(data)
	if err := gz.Close(); err != nil {
		return "", err
	}
	dst := filepath.Join(stage, filepath.Base(src)+".gz")
	return dst, os.WriteFile(dst, b.Bytes(), 0o644)
}

// debVersion turns a release version into a Debian one: no leading "v",
// starting with a digit ("0~git.HASH" for an untagged build), '-' as '+'.
func debVersion(v string) string {
	v = strings.TrimPrefix(v, "v")
	if v == "" || v[0] < '0' || v[0] > '9' {
		v = "0~git." + v
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '0' && r <= '9', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '.', r == '+', r == '~':
			return r
		}
		return '+'
	}, v)
}
