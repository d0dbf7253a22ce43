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

	"github.com/tether-support/tether/internal/protocol"
)

// knownDevicesFile pins each enrolled device's key on first use, like ssh's
// known_hosts: a relay that later hands out a different key for the same
// device is refused instead of trusted.
const knownDevicesFile = "known_devices.json"

// checkDeviceKey verifies (or, the first time, records) the key the relay
// says the device named asked has, keyed by that name. Attended sessions use
// one-off keys and are not pinned; a relay that answers a request for a
// device with an "attended" session is refused.
func (c *Client) checkDeviceKey(info *protocol.SessionInfo, o SessionRequest) error {
	if o.Attended {
		return nil
	}
	if info.Mode != "unattended" || (o.Device != "" && info.DeviceName != o.Device) {
		return fmt.Errorf("the relay answered a request for device %q with a different session (%s, %q); refusing", o.Device, info.Mode, info.DeviceName)
	}
	sum := sha256.Sum256(info.DeviceKey)
	fp := "SHA256:" + hex.EncodeToString(sum[:])
	if c.Home == "" { // NewWithToken: pinned for this client's life
		return pinKey(c.known, info.DeviceName, fp, "this client")
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
	if _, ok := known[info.DeviceName]; ok {
		return pinKey(known, info.DeviceName, fp, path)
	}
	known[info.DeviceName] = fp
	b, _ := json.MarshalIndent(known, "", "  ")
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// pinKey checks fp against the key pinned in known for device, pinning it
// if there is none; where names the pins for the error.
func pinKey(known map[string]string, device, fp, where string) error {
	if old, ok := known[device]; ok {
		if !bytes.Equal([]byte(old), []byte(fp)) {
			return fmt.Errorf("the key of device %q changed (pinned %s, relay now says %s): the relay may be impersonating it; if the device was really re-enrolled, remove its entry from %s",
				device, old, fp, where)
		}
		return nil
	}
	known[device] = fp
	return nil
}
