package daemon

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"

	"github.com/imsid/imsid/profiles"
)

// machineIDFiles are where systemd and D-Bus keep the machine id.
var machineIDFiles = []string{"/etc/machine-id", "/var/lib/dbus/machine-id"}

// deviceID is how the fleet names this device: Options.DeviceID, else
// upstream.device_id, else derived from the machine id, else a random id
// generated once and kept in the state file. Never the host name: every
// stock OpenWrt box is called OpenWrt.
func (d *Daemon) deviceID(cfg *profiles.Config) string {
	if d.o.DeviceID != "" {
		return d.o.DeviceID
	}
	if cfg.Upstream.DeviceID != "" {
		return cfg.Upstream.DeviceID
	}
	if id := idFromMachineID(readFirst(machineIDFiles)); id != "" {
		return id
	}
	if raw, err := d.st.DeviceID(); err == nil {
		var id string
		if json.Unmarshal(raw, &id) == nil && id != "" {
			return id
		}
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := "imsid-" + hex.EncodeToString(b[:])
	raw, _ := json.Marshal(id)
	if err := d.st.SetDeviceID(raw); err != nil {
		d.log.Warn("device id not kept: the fleet will see a new one after a restart", "device_id", id, "err", err)
	}
	return id
}

// idFromMachineID is "imsid-" and 16 hex digits of HMAC-SHA256 keyed by the
// machine id: stable, and the machine id itself (which systemd asks not to
// expose) does not leave the device. "" without a usable machine id.
func idFromMachineID(mid string) string {
	mid = strings.TrimSpace(mid)
	if len(mid) < 16 || strings.Trim(mid, "0") == "" || mid == "uninitialized" {
		return ""
	}
	m := hmac.New(sha256.New, []byte(mid))
	m.Write([]byte("imsid device id"))
	return "imsid-" + hex.EncodeToString(m.Sum(nil)[:8])
}

func readFirst(paths []string) string {
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(strings.TrimSpace(string(b))) > 0 {
			return string(b)
		}
	}
	return ""
}
