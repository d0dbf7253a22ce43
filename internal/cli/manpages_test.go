package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/cobra"
)

// genMan runs `prog gen-manpages DIR` on a small prepared tree and returns
// DIR.
func genMan(t *testing.T) string {
	t.Helper()
	root := &cobra.Command{Use: "prog", Short: "A program"}
	root.AddCommand(&cobra.Command{Use: "sub", Short: "A subcommand", Run: func(*cobra.Command, []string) {}})
	Prepare("prog", root)
	dir := filepath.Join(t.TempDir(), "man1")
	root.SetArgs([]string{"gen-manpages", dir})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestManPages(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	a, b := genMan(t), genMan(t)
	for _, name := range []string{"prog.1", "prog-sub.1"} {
		pa, err := os.ReadFile(filepath.Join(a, name))
		if err != nil {
			t.Fatal(err)
		}
		pb, _ := os.ReadFile(filepath.Join(b, name))
		if !bytes.Contains(pa, []byte(".TH")) || !bytes.Contains(pa, []byte("Nov 2023")) {
			t.Errorf("%s is not a man page dated by SOURCE_DATE_EPOCH:\n%s", name, pa)
		}
		if !bytes.Equal(pa, pb) {
			t.Errorf("%s differs between two runs", name)
		}
	}
	if _, err := os.Stat(filepath.Join(a, "prog-gen-manpages.1")); err == nil {
		t.Error("the hidden gen-manpages command got a man page")
	}
}

func TestManPagesBadSourceDate(t *testing.T) {
	t.Setenv("SOURCE_DATE_EPOCH", "yesterday")
	root := &cobra.Command{Use: "prog"}
	root.AddCommand(&cobra.Command{Use: "sub", Run: func(*cobra.Command, []string) {}})
	Prepare("prog", root)
	root.SetArgs([]string{"gen-manpages", t.TempDir()})
	root.SilenceErrors, root.SilenceUsage = true, true
	if err := root.Execute(); err == nil {
		t.Fatal("a malformed SOURCE_DATE_EPOCH was accepted")
	}
}
