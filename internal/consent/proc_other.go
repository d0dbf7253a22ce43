//go:build !unix

package consent

import "os/exec"

// setProcessGroup keeps exec's default cancellation, which kills the
// command itself, where process groups are not available.
func setProcessGroup(cmd *exec.Cmd) {}
