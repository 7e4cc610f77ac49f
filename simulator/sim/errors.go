package sim

import (
	"errors"
	"fmt"
)

// Sentinels for the logical-channel API; the AT interpreter maps them onto
// +CME ERROR codes (20 memory full, 21 invalid index, 22 not found).
var (
	// ErrNoChannel: every logical channel is in use (CME 20, memory full).
	ErrNoChannel = errors.New("sim: no free logical channel")
	// ErrInvalidChannel: the channel is not open (CME 21, invalid index).
	// Channels do not survive Reset, so a CGLA after a REFRESH gets this.
	ErrInvalidChannel = errors.New("sim: logical channel not open")
	// ErrAIDNotFound: no application with that AID (CME 22, not found).
	ErrAIDNotFound = errors.New("sim: application not found")
	// ErrBadAPDU: the command bytes are not a well-formed APDU header.
	ErrBadAPDU = errors.New("sim: malformed APDU")
	// ErrIndex: an IMSI or profile index out of range (Go control API).
	ErrIndex = errors.New("sim: index out of range")
	// ErrNotFound: no profile with that identifier (Go control API).
	ErrNotFound = errors.New("sim: profile not found")
)

// ConfigError names the configuration field that failed validation. It never
// carries an IMSI or ICCID value, only what is wrong with it.
type ConfigError struct {
	Field  string // e.g. "profiles[1].imsis[0].imsi"
	Reason string
}

func (e *ConfigError) Error() string { return fmt.Sprintf("sim config: %s: %s", e.Field, e.Reason) }
