package agent

import (
	"fmt"
	"io"
	"strconv"

	"github.com/tether-support/tether/internal/trust"
)

// acceptedVersions writes to w the highest signed policy and revocation
// list versions this device accepted, which it refuses to go below.
func acceptedVersions(home string, w io.Writer) error {
	pol, err := readPolicyVersion(home)
	if err != nil {
		return err
	}
	rev, err := readPinned(revocationVersionPath(home), trust.KindRevocation)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Highest signed policy version accepted: %s\n", versionLabel(pol.Highest))
	fmt.Fprintf(w, "Highest revocation list version accepted: %s\n", versionLabel(rev.Highest))
	return nil
}

// versionLabel is v, or "none yet" for 0.
func versionLabel(v uint64) string {
	if v == 0 {
		return "none yet"
	}
	return strconv.FormatUint(v, 10)
}
