package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/tether-support/tether/internal/protocol"
)

// errNeedsShell is returned for an upload or folder that could make the
// device run something (a hidden file or folder, an autostart or credential
// location) when the end user granted files:to-device but not the shell.
var errNeedsShell = errors.New("such places can make this computer run programs or let someone in, " +
	"so writing there needs the shell capability as well, which the end user has not granted")

// autostartDirs are places below the home folder, other than hidden ones,
// whose contents a system runs or trusts on its own: macOS launch agents and
// login items, the Windows Startup folder and PowerShell profiles, and ~/bin,
// which many Linux profiles put on the PATH. Compared without regard to case
// (macOS and Windows file systems usually ignore it).
var autostartDirs = []string{
	"bin",
	"Library/LaunchAgents",
	"Library/LaunchDaemons",
	"Library/StartupItems",
	"Library/Preferences",
	"Library/Application Support/com.apple.backgroundtaskmanagementagent",
	"AppData/Roaming/Microsoft/Windows/Start Menu",
	"AppData/Roaming/Microsoft/Windows/Libraries",
	"AppData/Local/Microsoft/WindowsApps",
	"Documents/WindowsPowerShell",
	"Documents/PowerShell",
	"Start Menu",
}

// sensitivePath reports why rel (clean, slash-separated, relative to the
// home folder) is a place that files:to-device alone must not write, or ""
// when it is an ordinary data location. Hidden files and folders (any
// component starting with '.': shell start-up files, ~/.ssh, ~/.config with
// autostart and systemd user units, ~/.local/share/applications,
// ~/.pam_environment, crontabs kept in the home) are all refused, as are
// the autostartDirs.
func sensitivePath(rel string) string {
	if rel == "" || rel == "." {
		return ""
	}
	for _, c := range strings.Split(rel, "/") {
		if strings.HasPrefix(c, ".") {
			return "is hidden (a name starting with '.', like .bashrc, .profile, .ssh or .config)"
		}
	}
	low := strings.ToLower(rel)
	for _, d := range autostartDirs {
		d = strings.ToLower(d)
		if low == d || strings.HasPrefix(low, d+"/") {
			return "is in a folder whose contents start on their own or are trusted (" + d + ")"
		}
	}
	return ""
}

// maxLinks bounds how many symbolic links resolve follows.
const maxLinks = 40

// resolve follows symbolic links in rel inside root the way the kernel
// would when opening it, and returns where it really leads, relative to
// root. Components that do not exist yet are kept as they are. A link that
// leads out of root yields an error (os.Root would refuse it anyway).
func resolve(root *os.Root, rel string) (string, error) {
	done, todo := "", strings.Split(rel, "/")
	for links := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if done == "" {
				return "", errOutsideRoot
			}
			done = path.Dir(done)
			if done == "." {
				done = ""
			}
			continue
		}
		next := path.Join(done, c)
		fi, err := root.Lstat(next)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			done = next // missing (to be created) or not a link
			continue
		}
		if links++; links > maxLinks {
			return "", errors.New("too many symbolic links")
		}
		target, err := root.Readlink(next)
		if err != nil {
			return "", err
		}
		if path.IsAbs(target) {
			return "", errOutsideRoot
		}
		todo = append(strings.Split(target, "/"), todo...)
	}
	if done == "" {
		return ".", nil
	}
	return done, nil
}

// shellGranted reports whether the end user lets this technician run
// commands: in this session, or in the live parent session whose consent
// this one reuses.
func (s *deviceSession) shellGranted() bool {
	parent := s.parent.Load()
	return s.hasCap(protocol.CapShell) || (parent != nil && parent.hasCap(protocol.CapShell))
}

// checkWrite refuses a write to rel (a file or a folder to create or
// replace) that could lead to code execution, unless the shell is granted
// (see shellGranted):
// both the path as asked and the path after following symbolic links are
// checked, so a link planted earlier cannot route around it.
func (fl *files) checkWrite(rel string) error {
	if fl.s.shellGranted() {
		return nil
	}
	why := sensitivePath(rel)
	if why == "" {
		real, err := resolve(fl.root, rel)
		if err != nil {
			// A link out of the root, absolute or looping: os.Root refuses
			// to write through it, and says why; a final link is replaced,
			// not followed.
			return nil
		}
		if why = sensitivePath(real); why != "" {
			why = "leads through a symbolic link to " + real + ", which " + why
		}
	}
	if why == "" {
		return nil
	}
	return fmt.Errorf("refused to write %s: it %s; %w", rel, why, errNeedsShell)
}
