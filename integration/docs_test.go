package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// The documents whose command lines must work as written, relative to
// this package, and the packaging files whose option lines must too.
var (
	checkedDocs = []string{"../docs/operations.md", "../README.md", "../docs/deploy-cluster.md"}
	// optionFiles hold VAR="…" lines the units pass to a command.
	optionFiles = []string{"../packaging/default/tether-relay"}
)

// pendingDocCommands are the commands and flags docs/deploy-cluster.md
// describes that are being built in parallel and are not in the programs
// yet (the cluster design's names, fixed). While one is missing, the
// document's command lines that use it are not checked; as soon as it
// exists, TestDocsCommands fails until it is removed from this list, so
// the exemption cannot outlive its reason.
var pendingDocCommands = []pendingCommand{}

// pendingCommand is a command path (program first) and, if flag is set,
// that flag of the command.
type pendingCommand struct {
	path, flag string
}

// exists reports whether the programs have p.
func (p pendingCommand) exists(h *helpCache) bool {
	words := strings.Fields(p.path)
	if p.flag != "" {
		words = append(words, "--"+p.flag+"=x")
	}
	return h.check(words) == nil
}

// usedBy reports whether the command line words uses p.
func (p pendingCommand) usedBy(words []string) bool {
	line := " " + strings.Join(words, " ") + " "
	if !strings.HasPrefix(line, " "+p.path+" ") {
		return false
	}
	return p.flag == "" || strings.Contains(line, " --"+p.flag+" ") || strings.Contains(line, " --"+p.flag+"=")
}

// missingPending returns the pending commands the programs do not have
// yet, and fails t for each one they have.
func missingPending(t *testing.T, h *helpCache) []pendingCommand {
	t.Helper()
	var out []pendingCommand
	for _, p := range pendingDocCommands {
		if p.exists(h) {
			t.Errorf("%s %s exists now: remove it from pendingDocCommands", p.path, p.flag)
			continue
		}
		out = append(out, p)
	}
	return out
}

// TestDocsCommands keeps the operator's documentation honest: every
// `relay …`, `tech …` and `agent …` command line in a code block (and in
// an inline code span) of docs/operations.md, docs/deploy-cluster.md and
// the README, and every option line of the packaging's defaults file, must
// name a command that exists in the built programs, and each flag it uses
// must be a flag of that command (per the program's own --help).
func TestDocsCommands(t *testing.T) {
	t.Parallel()
	h := newHelpCache()
	pending := missingPending(t, h)
	n := 0
	for _, doc := range append(append([]string{}, checkedDocs...), optionFiles...) {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		var cmds []docCommand
		if strings.HasSuffix(doc, ".md") {
			cmds = markdownCommands(string(b))
		} else {
			cmds = shellCommands(string(b), 0)
		}
	next:
		for _, c := range cmds {
			n++
			for _, p := range pending {
				if p.usedBy(c.words) {
					t.Logf("%s:%d: not checked until %s %s exists", filepath.Base(doc), c.line, p.path, p.flag)
					continue next
				}
			}
			if err := h.check(c.words); err != nil {
				t.Errorf("%s:%d: %s\n\t%s", filepath.Base(doc), c.line, err, strings.Join(c.words, " "))
			}
		}
	}
	if n < 40 {
		t.Fatalf("found only %d command lines; the extraction is broken", n)
	}
}

// TestDocsCommandsCheckFails: the check refuses a command that does not
// exist, a flag of another command, a misspelt flag, and accepts the
// forms the documents use (sudo -u, ExecStart=, sh -c, cron, $(…),
// env assignments, flags with values, shorthands, `--`).
func TestDocsCommandsCheckFails(t *testing.T) {
	t.Parallel()
	h := newHelpCache()
	doc := "```sh\n" +
		"sudo -u tether relay audit verify --data /var/lib/tether   # fine\n" +
		"relay audit verfy --data /x\n" +
		"tech users list --data /x\n" +
		"relay serve --listen 0.0.0.0:8443 --metrics-listn off\n" +
		"```\n" +
		"```ini\nExecStart=/bin/sh -c 'exec relay backup --data /d --out /b/relay-$(date +%%F).tar --forse'\n```\n" +
		"```\n30 2 * * * relay backup --data /d --out x --force && tech nosuch\n```\n" +
		"Inline: `tech recordings hold 3f2a… --reason \"x\" --bogus`, and `agent run -x`.\n" +
		"```sh\nX=1 tech connect pc -- ls --not-ours && echo \"$(tech keys generate -o k)\" | agent trust show\n```\n" +
		"```sh\necho 'TETHER_AGENT_OPTS=\"--consent-cmd /bin/c --lock-cmdd x\"' > agent.env\n```\n" +
		"```sh\nsudo -u tether env PGPASSFILE=/p A=1 relay audit verfy --data /x\n```\n"
	var bad []string
	for _, c := range markdownCommands(doc) {
		if err := h.check(c.words); err != nil {
			bad = append(bad, fmt.Sprintf("%d:%s", c.line, err))
		}
	}
	want := []string{
		`3:relay audit has no command "verfy"`,
		`4:tech users list has no flag --data`,
		`5:relay serve has no flag --metrics-listn`,
		`8:relay backup has no flag --forse`,
		`11:tech has no command "nosuch"`,
		`13:tech recordings hold has no flag --bogus`,
		`13:agent run has no flag -x`,
		`18:agent run has no flag --lock-cmdd`,
		`21:relay audit has no command "verfy"`,
	}
	if strings.Join(bad, "\n") != strings.Join(want, "\n") {
		t.Fatalf("check found:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(want, "\n"))
	}
}

// docCommand is one command line found in a document: the program and
// its arguments, unquoted.
type docCommand struct {
	line  int
	words []string
}

var (
	fenceRe  = regexp.MustCompile("^\\s*```")
	inlineRe = regexp.MustCompile("`([^`]+)`")
	cronRe   = regexp.MustCompile(`^([0-9*/,-]+\s+){5}`)
	execRe   = regexp.MustCompile(`^Exec[A-Za-z]*=[-@:+!]*`)
	// envAssignRe is a shell variable assignment before a command.
	envAssignRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`)
)

// markdownCommands returns the commands of the code blocks of a Markdown
// document and of its inline code spans that start with a program name.
func markdownCommands(doc string) []docCommand {
	var out []docCommand
	lines := strings.Split(doc, "\n")
	inBlock := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if fenceRe.MatchString(l) {
			inBlock = !inBlock
			continue
		}
		if inBlock {
			start := i
			for strings.HasSuffix(l, "\\") && i+1 < len(lines) { // continuation
				i++
				l = strings.TrimSuffix(l, "\\") + " " + lines[i]
			}
			out = append(out, shellCommands(l, start)...)
			continue
		}
		// Inline spans may wrap onto the next line of the paragraph.
		text := l
		if strings.Count(l, "`")%2 == 1 && i+1 < len(lines) {
			text += " " + lines[i+1]
		}
		for _, m := range inlineRe.FindAllStringSubmatch(text, -1) {
			if w := strings.Fields(m[1]); len(w) > 1 && isProgram(w[0]) {
				out = append(out, shellCommands(m[1], i)...)
			}
		}
	}
	return out
}

// shellCommands returns the Tether commands of shell text (one line per
// line of text; line numbers counted from first, 1-based).
func shellCommands(text string, first int) []docCommand {
	var out []docCommand
	for i, l := range strings.Split(text, "\n") {
		l = cronRe.ReplaceAllString(strings.TrimSpace(l), "")
		l = execRe.ReplaceAllString(l, "")
		for _, words := range splitShell(l) {
			for _, c := range commandsIn(words) {
				out = append(out, docCommand{line: first + i + 1, words: c})
			}
		}
	}
	return out
}

// optionVars are the variables the units append to a command line.
var optionVars = map[string][]string{
	"TETHER_RELAY_OPTS": {"relay", "serve"},
	"TETHER_AGENT_OPTS": {"agent", "run"},
}

// commandsIn finds the Tether command of one simple command (and those
// nested in its words: sh -c '…', $(…), VAR="…" option lines).
func commandsIn(words []string) [][]string {
	var out [][]string
	for _, w := range words {
		if k, v, ok := strings.Cut(w, "="); ok && optionVars[k] != nil {
			out = append(out, append(append([]string{}, optionVars[k]...), strings.Fields(v)...))
		}
		for _, sub := range substitutions(w) {
			for _, c := range splitShell(sub) {
				out = append(out, commandsIn(c)...)
			}
		}
	}
	i := 0
	for i < len(words) {
		w := words[i]
		switch {
		case w == "sudo" || w == "exec" || w == "env" || w == "time":
			i++
		case w == "-u" && i > 0 && words[i-1] == "sudo":
			i += 2
		case envAssignRe.MatchString(w) && (i == 0 || words[i-1] == "env" || envAssignRe.MatchString(words[i-1])):
			i++ // VAR=value, or env VAR=value
		default:
			if (w == "sh" || strings.HasSuffix(w, "/sh")) && i+2 < len(words) && words[i+1] == "-c" {
				for _, c := range splitShell(words[i+2]) {
					out = append(out, commandsIn(c)...)
				}
				return out
			}
			if isProgram(w) {
				out = append(out, append([]string{filepath.Base(w)}, words[i+1:]...))
			}
			return out
		}
	}
	return out
}

// isProgram reports whether w names relay, tech or agent (possibly by path).
func isProgram(w string) bool {
	switch filepath.Base(w) {
	case "relay", "tech", "agent":
		return w == filepath.Base(w) || strings.HasPrefix(w, "/") || strings.HasPrefix(w, "./")
	}
	return false
}

// substitutions returns the text of each $(…) in w.
func substitutions(w string) []string {
	var out []string
	for {
		i := strings.Index(w, "$(")
		if i < 0 {
			return out
		}
		depth, j := 1, i+2
		for ; j < len(w) && depth > 0; j++ {
			switch w[j] {
			case '(':
				depth++
			case ')':
				depth--
			}
		}
		out = append(out, w[i+2:j-1])
		w = w[j:]
	}
}

// splitShell splits a line of shell into simple commands (at |, ||, &&,
// ;, &, and a comment), each a list of words with quotes removed. $(…)
// stays inside its word; redirections are dropped.
func splitShell(line string) [][]string {
	var cmds [][]string
	var words []string
	var cur strings.Builder
	inWord, quote, depth := false, byte(0), 0
	endWord := func() {
		if inWord {
			words = append(words, cur.String())
		}
		cur.Reset()
		inWord = false
	}
	endCmd := func() {
		endWord()
		if len(words) > 0 {
			cmds = append(cmds, dropRedirects(words))
		}
		words = nil
	}
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case depth > 0:
			cur.WriteByte(c)
			if c == '(' {
				depth++
			} else if c == ')' {
				depth--
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == '$' && i+1 < len(line) && line[i+1] == '(':
			cur.WriteString("$(")
			i++
			depth, inWord = 1, true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t':
			endWord()
		case c == '#' && !inWord:
			endCmd()
			return cmds
		case c == '|' || c == ';' || c == '&' || c == '(' || c == ')':
			endCmd()
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	endCmd()
	return cmds
}

// dropRedirects removes redirections (> f, 2>f, < f) from words.
func dropRedirects(words []string) []string {
	var out []string
	for i := 0; i < len(words); i++ {
		w := strings.TrimLeft(words[i], "0123456789")
		if strings.HasPrefix(w, ">") || strings.HasPrefix(w, "<") {
			if strings.Trim(w, "<>") == "" {
				i++ // the file is the next word
			}
			continue
		}
		out = append(out, words[i])
	}
	return out
}

// cmdHelp is what a command's --help says about its subcommands and flags.
type cmdHelp struct {
	examples []string // the lines of its Examples section
	subs     map[string]bool
	long     map[string]bool // flag name → takes a value
	short    map[string]bool
}

// helpCache runs the built programs' --help once per command path.
type helpCache struct {
	mu sync.Mutex
	m  map[string]*cmdHelp
}

func newHelpCache() *helpCache { return &helpCache{m: map[string]*cmdHelp{}} }

var (
	helpFlagRe = regexp.MustCompile(`^\s+(?:-(\S), )?--([A-Za-z0-9][\w.-]*)(?: (\S+))?(?:\s{2,}|$)`)
	helpSubRe  = regexp.MustCompile(`^  (\S+)\s`)
)

// get returns the help of the command path (program first).
func (h *helpCache) get(path []string) (*cmdHelp, error) {
	key := strings.Join(path, " ")
	h.mu.Lock()
	defer h.mu.Unlock()
	if c, ok := h.m[key]; ok {
		return c, nil
	}
	binary := map[string]string{"relay": bin.relay, "tech": bin.tech, "agent": bin.agent}[path[0]]
	cmd := exec.Command(binary, append(append([]string{}, path[1:]...), "--help")...)
	cmd.Env = append(os.Environ(), "HOME="+os.TempDir(), "TETHER_TECH_HOME=", "TETHER_AGENT_HOME=")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s --help: %v", key, err)
	}
	c := &cmdHelp{subs: map[string]bool{}, long: map[string]bool{}, short: map[string]bool{}}
	section := ""
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && l[0] != ' ' {
			section = l
			continue
		}
		switch section {
		case "Examples:":
			if strings.TrimSpace(l) != "" {
				c.examples = append(c.examples, l)
			}
		case "Available Commands:", "Additional Commands:":
			if m := helpSubRe.FindStringSubmatch(l); m != nil {
				c.subs[m[1]] = true
			}
		case "Flags:", "Global Flags:":
			if m := helpFlagRe.FindStringSubmatch(l); m != nil {
				c.long[m[2]] = m[3] != ""
				if m[1] != "" {
					c.short[m[1]] = m[3] != ""
				}
			}
		}
	}
	h.m[key] = c
	return c, nil
}

// check walks words (program first) through the programs' help: the
// subcommands must exist, and every flag must be one of the command's.
func (h *helpCache) check(words []string) error {
	path := []string{words[0]}
	c, err := h.get(path)
	if err != nil {
		return err
	}
	positional := false
	for i := 1; i < len(words); i++ {
		w := words[i]
		switch {
		case w == "--":
			return nil // the rest is a remote command
		case strings.HasPrefix(w, "--"):
			name, _, hasValue := strings.Cut(w[2:], "=")
			takes, ok := c.long[name]
			if !ok {
				return fmt.Errorf("%s has no flag --%s", strings.Join(path, " "), name)
			}
			if takes && !hasValue {
				i++
			}
		case strings.HasPrefix(w, "-") && len(w) > 1:
			takes, ok := c.short[w[1:2]]
			if !ok {
				return fmt.Errorf("%s has no flag -%s", strings.Join(path, " "), w[1:2])
			}
			if takes && len(w) == 2 {
				i++
			}
		case w == "…" || w == "...":
			return nil // a placeholder for the rest of the command
		case len(c.subs) > 0 && !positional:
			if !c.subs[w] {
				return fmt.Errorf("%s has no command %q", strings.Join(path, " "), w)
			}
			path = append(path, w)
			if c, err = h.get(path); err != nil {
				return err
			}
		default:
			positional = true
		}
	}
	return nil
}

// TestDocsUnits: the unit files docs/operations.md tells the operator to
// write (code blocks opening with "# /etc/systemd/system/NAME") pass
// systemd-analyze verify.
func TestDocsUnits(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed")
	}
	b, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var units []string
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		name, ok := strings.CutPrefix(lines[i], "# /etc/systemd/system/")
		if !ok || i == 0 || !fenceRe.MatchString(lines[i-1]) {
			continue
		}
		var unit []string
		for i++; i < len(lines) && !fenceRe.MatchString(lines[i]); i++ {
			unit = append(unit, lines[i])
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(unit, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		units = append(units, p)
	}
	if len(units) < 2 {
		t.Fatalf("found %d unit files in docs/operations.md, want the backup service and timer", len(units))
	}
	out, err := exec.Command("systemd-analyze", append([]string{"verify", "--man=no"}, units...)...).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify %v: %v\n%s", units, err, out)
	}
}

// TestHelpExamples: every Example in every command's --help (all three
// programs, walked through their help) runs the same check as the
// documents: its command path exists and its flags are that command's.
func TestHelpExamples(t *testing.T) {
	t.Parallel()
	h := newHelpCache()
	queue := [][]string{{"relay"}, {"tech"}, {"agent"}}
	seen, lines := 0, 0
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		c, err := h.get(path)
		if err != nil {
			t.Fatal(err)
		}
		seen++
		for _, cmd := range shellCommands(strings.Join(c.examples, "\n"), 0) {
			lines++
			if err := h.check(cmd.words); err != nil {
				t.Errorf("%s --help, example: %s\n\t%s", strings.Join(path, " "), err, strings.Join(cmd.words, " "))
			}
		}
		for sub := range c.subs {
			if sub != "help" && sub != "completion" {
				queue = append(queue, append(append([]string{}, path...), sub))
			}
		}
	}
	if seen < 100 || lines < 100 {
		t.Fatalf("walked %d commands and %d example lines; the walk is broken", seen, lines)
	}
}
