package tech

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"tether/internal/protocol"
)

// knownDevicesFile pins each enrolled device's key on first use, like ssh's
// known_hosts: a relay that later hands out a different key for the same
// device is refused instead of trusted.
const knownDevicesFile = "known_devices.json"

// checkDeviceKey verifies (or, the first time, records) the key the relay
// says a device has. Attended sessions use one-off keys and are not pinned.
func (c *Client) checkDeviceKey(info *protocol.SessionInfo) error {
	if info.Mode != "unattended" || info.DeviceID == "" {
		return nil
	}
	path := filepath.Join(c.Home, knownDevicesFile)
	known := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &known); err != nil {
			return fmt.Errorf("%s is corrupt: %w", path, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	sum := sha256.Sum256(info.DeviceKey)
	fp := "SHA256:" + hex.EncodeToString(sum[:])
	if old, ok := known[info.DeviceID]; ok {
		if !bytes.Equal([]byte(old), []byte(fp)) {
			return fmt.Errorf("the key of device %s changed (pinned %s, relay now says %s): the relay may be impersonating it; if the device was really re-keyed, remove its entry from %s",
				info.DeviceID, old, fp, path)
		}
		return nil
	}
	known[info.DeviceID] = fp
	b, _ := json.MarshalIndent(known, "", "  ")
	return os.WriteFile(path, append(b, '\n'), 0o600)
}
