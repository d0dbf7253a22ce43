package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// module is one module linked into a program.
type module struct{ path, version string }

// notices returns the third-party notices of the given binaries: the
// license files of the Go standard library and of every module that
// `go version -m` says they link, read from the module cache.
func notices(binaries []string) ([]byte, error) {
	goVersion, mods, err := linkedModules(binaries)
	if err != nil {
		return nil, err
	}
	goroot, err := goEnv("GOROOT")
	if err != nil {
		return nil, err
	}
	modcache, err := goEnv("GOMODCACHE")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "Third-party software in this release\n\nThe programs are built with Go (%s) and link the modules below; their\nlicenses follow.\n", goVersion)
	std, err := os.ReadFile(filepath.Join(goroot, "LICENSE"))
	if err != nil {
		return nil, fmt.Errorf("the Go standard library's license: %w", err)
	}
	writeNotice(&b, "Go standard library "+goVersion, std)
	for _, m := range mods {
		dir := filepath.Join(modcache, escapePath(m.path)+"@"+m.version)
		texts, err := licenseFiles(dir)
		if err != nil {
			return nil, fmt.Errorf("license of %s %s: %w", m.path, m.version, err)
		}
		writeNotice(&b, m.path+" "+m.version, texts)
	}
	return b.Bytes(), nil
}

// writeNotice appends one titled license text.
func writeNotice(b *bytes.Buffer, title string, text []byte) {
	fmt.Fprintf(b, "\n\n== %s ==\n\n%s\n", title, bytes.TrimSpace(text))
}

// linkedModules runs `go version -m` on the binaries and returns the Go
// version and the union of their dependency modules (replacements
// applied), sorted by path.
func linkedModules(binaries []string) (string, []module, error) {
	out, err := exec.Command("go", append([]string{"version", "-m"}, binaries...)...).Output()
	if err != nil {
		return "", nil, fmt.Errorf("go version -m: %w", exitDetail(err))
	}
	seen := map[module]bool{}
	var goVersion string
	sc := bufio.NewScanner(bytes.NewReader(out))
	var last *module
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && strings.HasSuffix(f[0], ":"):
			goVersion = f[1]
		case len(f) >= 3 && f[0] == "dep":
			m := module{f[1], f[2]}
			last = &m
			seen[m] = true
		case len(f) >= 3 && f[0] == "=>" && last != nil:
			delete(seen, *last)
			seen[module{f[1], f[2]}] = true
		}
	}
	mods := make([]module, 0, len(seen))
	for m := range seen {
		mods = append(mods, m)
	}
	sort.Slice(mods, func(i, j int) bool {
		return mods[i].path < mods[j].path || mods[i].path == mods[j].path && mods[i].version < mods[j].version
	})
	if goVersion == "" {
		return "", nil, fmt.Errorf("go version -m printed no Go version")
	}
	return goVersion, mods, nil
}

// licenseFiles returns the license and notice files at the top of a
// module's directory, concatenated in name order.
func licenseFiles(dir string) ([]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, e := range entries {
		name := strings.ToUpper(e.Name())
		if e.IsDir() || !(strings.HasPrefix(name, "LICENSE") || strings.HasPrefix(name, "LICENCE") ||
			strings.HasPrefix(name, "COPYING") || strings.HasPrefix(name, "NOTICE")) {
			continue
		}
		text, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.Write(text)
	}
	if b.Len() == 0 {
		return nil, fmt.Errorf("no LICENSE, COPYING or NOTICE file in %s", dir)
	}
	return b.Bytes(), nil
}

// escapePath is the module cache's spelling of a module path: each upper
// case letter becomes '!' and its lower case.
func escapePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// goEnv returns one `go env` value.
func goEnv(name string) (string, error) {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		return "", fmt.Errorf("go env %s: %w", name, exitDetail(err))
	}
	return strings.TrimSpace(string(out)), nil
}
