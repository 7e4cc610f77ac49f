package sim

import "time"

// CardConfig describes one physical card. It decodes from a scenario's YAML.
//
// A plain multi-IMSI SIM lists its IMSIs under imsis (or a single profile);
// an eUICC sets eid and lists several profiles, each with its own ICCID.
type CardConfig struct {
	// ICCID of the card, 18-20 hex digits (letters allowed, some issuers use
	// them). A profile without its own ICCID uses this one; with no profile
	// enabled (eUICC) EF_ICCID shows this one.
	ICCID string `yaml:"iccid"`
	// EID, 32 decimal digits. Set it to make the card an eUICC with an ISD-R.
	EID string `yaml:"eid,omitempty"`
	// IMSIs is shorthand for a single profile with the card's ICCID. Use
	// either IMSIs or Profiles, not both.
	IMSIs []IMSIConfig `yaml:"imsis,omitempty"`
	// Profiles on the card; on a plain SIM exactly one.
	Profiles []ProfileConfig `yaml:"profiles,omitempty"`
	// EnabledProfile is the index in Profiles of the enabled profile; -1
	// means none (eUICC only).
	EnabledProfile int `yaml:"enabled_profile"`
	// ActiveIMSI is the index of the active IMSI within the enabled profile.
	ActiveIMSI int `yaml:"active_imsi"`
	// Applet configures the example multi-IMSI applet.
	Applet AppletConfig `yaml:"applet"`
	// MaxChannels is how many logical channels (besides the basic one) can
	// be open at once; 0 means 3, the ISO 7816-4 basic range.
	MaxChannels int `yaml:"max_channels,omitempty"`
	// ResponseLimit is the longest response returned directly; longer ones
	// come back as 61xx and must be fetched with GET RESPONSE. 0 means 256.
	ResponseLimit int `yaml:"response_limit,omitempty"`
}

// ProfileConfig is one profile (on a plain SIM, the card's only one).
type ProfileConfig struct {
	ICCID    string       `yaml:"iccid,omitempty"`
	Name     string       `yaml:"name,omitempty"`     // ES10c profileName (92)
	Provider string       `yaml:"provider,omitempty"` // serviceProviderName (91)
	Nickname string       `yaml:"nickname,omitempty"` // profileNickname (90)
	Class    string       `yaml:"class,omitempty"`    // test, provisioning or operational (default)
	AID      string       `yaml:"aid,omitempty"`      // ISD-P AID hex; default A0000005591010FFFFFFFF890000<10+i>00
	IMSIs    []IMSIConfig `yaml:"imsis"`
	// DisallowDisable is the policy rule that makes Disable and Enable of
	// another profile answer disallowedByPolicy (3).
	DisallowDisable bool `yaml:"disallow_disable,omitempty"`
}

// IMSIConfig is one IMSI with the files that follow it.
type IMSIConfig struct {
	IMSI string `yaml:"imsi"`
	SPN  string `yaml:"spn,omitempty"`
	// MNCLength is 2 or 3 (EF_AD byte 4). 0 picks 3 for MCC 302, 310-316
	// and 334, otherwise 2.
	MNCLength int      `yaml:"mnc_length,omitempty"`
	FPLMN     []string `yaml:"fplmn,omitempty"` // MCC+MNC, 5 or 6 digits
}

// AppletConfig configures the example multi-IMSI applet.
type AppletConfig struct {
	// Disabled removes the applet from the card (SELECT answers 6A82).
	Disabled bool `yaml:"disabled,omitempty"`
	// AID in hex; default DefaultAppletAID.
	AID string `yaml:"aid,omitempty"`
	// Refresh is the REFRESH the applet issues after a switch:
	// "uicc_reset" (qualifier 04, default) or "naa_init" (03).
	Refresh string `yaml:"refresh,omitempty"`
	// Rotation is the autonomous rotation policy.
	Rotation RotationConfig `yaml:"rotation"`
}

// RotationConfig is the autonomous rotation policy: after RotateAfter
// without an acceptable registration the applet moves to the next IMSI.
type RotationConfig struct {
	Enabled     bool          `yaml:"enabled"`
	RotateAfter time.Duration `yaml:"rotate_after"` // e.g. "2m"
	// PollEvery is the applet's registration-polling granularity (it reads
	// EF_LOCI on a timer, e.g. every 3 min on Eseye AnyNet): a rotation
	// happens at the first poll at or after RotateAfter without
	// registration. 0: the applet sees registration at once.
	PollEvery time.Duration `yaml:"poll_every,omitempty"`
}

// Well-known AIDs, hex.
const (
	ISDRAID          = "A0000005591010FFFFFFFF8900000100"
	USIMAID          = "A0000000871002FF86FFFF89FFFFFFFF"
	DefaultAppletAID = "F04D554C5449494D5349" // F0 (proprietary) + "MULTIIMSI"
)
