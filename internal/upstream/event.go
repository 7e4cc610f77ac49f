package upstream

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/imsid/imsid/profiles"
)

// EventType is a CloudEvents type attribute.
type EventType string

// The event types the daemon emits; docs/upstream.md has their data.
const (
	TypeLinkChanged EventType = "io.imsid.link.changed"
	TypeSwitch      EventType = "io.imsid.switch"
	TypeThreatAlert EventType = "io.imsid.threat.alert"
	// TypeThreatAck: a person acknowledged a latched tamper alarm.
	TypeThreatAck EventType = "io.imsid.threat.acknowledged"
	TypeHeartbeat EventType = "io.imsid.heartbeat"
)

// SpecVersion is the CloudEvents version produced.
const SpecVersion = "1.0"

// Event is a CloudEvent in the structured JSON format.
type Event struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            EventType       `json:"type"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
}

// Source returns the CloudEvents source for a device.
func Source(deviceID string) string { return "imsid/" + deviceID }

// NewEvent builds an event with a random ID; data is marshalled to JSON.
func NewEvent(deviceID string, typ EventType, at time.Time, data any) (Event, error) {
	if deviceID == "" {
		return Event{}, fmt.Errorf("upstream: event %s: device id is empty", typ)
	}
	if typ == "" {
		return Event{}, fmt.Errorf("upstream: event type is empty")
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("upstream: event %s data: %w", typ, err)
	}
	var id [16]byte
	_, _ = rand.Read(id[:])
	return Event{
		SpecVersion:     SpecVersion,
		ID:              hex.EncodeToString(id[:]),
		Source:          Source(deviceID),
		Type:            typ,
		Time:            at.UTC(),
		DataContentType: "application/json",
		Data:            raw,
	}, nil
}

// LinkChanged is the data of io.imsid.link.changed.
type LinkChanged struct {
	Up      bool   `json:"up"`
	Profile string `json:"profile"`
	PLMN    string `json:"plmn,omitempty"`
	Tech    string `json:"tech,omitempty"`
	IP      string `json:"ip,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

// Switch is the data of io.imsid.switch.
type Switch struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	Trigger string   `json:"trigger"`
	Reasons []string `json:"reasons"`
	// Result is "ok", "failed", "rolled_back" or "reconciled".
	Result     string `json:"result"`
	DurationMS int64  `json:"duration_ms,omitempty"`
	// IMSI and ICCID after the switch, hashed unless configured otherwise.
	IMSI  string `json:"imsi,omitempty"`
	ICCID string `json:"iccid,omitempty"`
}

// ThreatAlert is the data of io.imsid.threat.alert.
type ThreatAlert struct {
	Level    string   `json:"level"`
	Score    float64  `json:"score"`
	Detector string   `json:"detector,omitempty"`
	Reasons  []string `json:"reasons"`
	PLMN     string   `json:"plmn,omitempty"`
	Cell     string   `json:"cell,omitempty"`
	Mode     string   `json:"mode,omitempty"`
}

// Heartbeat is the data of io.imsid.heartbeat.
type Heartbeat struct {
	UptimeS     int64  `json:"uptime_s"`
	Version     string `json:"version,omitempty"`
	Active      string `json:"active,omitempty"`
	State       string `json:"state,omitempty"`
	ThreatLevel string `json:"threat_level,omitempty"`
	IMSI        string `json:"imsi,omitempty"`
	ICCID       string `json:"iccid,omitempty"`
	// Finding is the top active threat finding's sentence (what was seen,
	// where), as the device's status shows it.
	Finding string `json:"finding,omitempty"`
	// Quarantines are the quarantines in force, of every kind, with expiry.
	Quarantines []HeartbeatQuarantine `json:"quarantines,omitempty"`
	// Usage is each profile's data and spend this billing period.
	Usage []HeartbeatUsage `json:"usage,omitempty"`
	// RecoveryStep is the modem recovery rung in progress; RecoveryRuns
	// the ladder's runs since the daemon started.
	RecoveryStep string `json:"recovery_step,omitempty"`
	RecoveryRuns int    `json:"recovery_runs,omitempty"`
	// The Reporter fills these in.
	OutboxLen     int    `json:"outbox_len"`
	OutboxDropped uint64 `json:"outbox_dropped"`
	Rejected      uint64 `json:"rejected"`
}

// HeartbeatQuarantine is one quarantine: kind (profile, plmn, cell), key,
// expiry and reason code.
type HeartbeatQuarantine struct {
	Kind   string    `json:"kind"`
	Key    string    `json:"key"`
	Until  time.Time `json:"until"`
	Reason string    `json:"reason"`
}

// HeartbeatUsage is one profile's billing period so far.
type HeartbeatUsage struct {
	Profile   string `json:"profile"`
	UsedBytes int64  `json:"used_bytes"`
	CapBytes  int64  `json:"cap_bytes,omitempty"`
	Spend     string `json:"spend,omitempty"`
	// CapRunsOutAt is the forecast's date for the cap, if within the period.
	CapRunsOutAt *time.Time `json:"cap_runs_out_at,omitempty"`
}

// HashLen is the length, in hex characters, of a hashed identity (128 bits).
const HashLen = 32

// HashIdentity returns hex(HMAC-SHA256(salt, value)) truncated to HashLen.
// The value is normalised first (spaces trimmed, upper case, an ICCID's
// trailing padding F dropped) so the same card hashes the same whoever read
// it.
func HashIdentity(salt []byte, value string) string {
	v := strings.ToUpper(strings.TrimSpace(value))
	if len(v) == 20 && strings.HasSuffix(v, "F") {
		v = v[:19]
	}
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(v))
	return hex.EncodeToString(m.Sum(nil))[:HashLen]
}

// Identities decides how IMSI and ICCID leave the device: hashed with the
// fleet salt by default, in clear only if the config says so.
type Identities struct {
	salt  []byte
	clear bool
}

// NewIdentities follows cfg.HashIdentities and cfg.FleetSalt.
func NewIdentities(cfg profiles.Upstream) Identities {
	return Identities{salt: []byte(cfg.FleetSalt.Reveal()), clear: !cfg.HashIdentities}
}

// Export returns what may be sent for an IMSI or ICCID; "" stays "".
func (i Identities) Export(value string) string {
	if value == "" || i.clear {
		return value
	}
	return HashIdentity(i.salt, value)
}
