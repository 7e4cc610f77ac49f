package sim

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

type imsiEntry struct {
	cfg   IMSIConfig // normalised: MNCLength set
	fplmn []byte     // EF_FPLMN; UPDATE BINARY may change it
}

type profile struct {
	iccid           string
	aid             []byte
	name            string
	provider        string
	nickname        string
	class           string
	classCode       byte
	disallowDisable bool
	imsis           []imsiEntry
	active          int
	pending         int // IMSI index applied at the next Reset/NAAInit; -1 none
}

type state struct {
	cfg       CardConfig
	profs     []profile
	enabled   int // ES10c state: enabled profile, -1 none
	live      int // profile the files show; becomes enabled at Reset
	appletAID []byte
	appletQ   byte
	rot       RotationConfig
	maxCh     int
	respLimit int
	chans     []*channel // [0] basic, always open; nil = closed

	catBusy        bool
	refresh        Refresh
	refreshPending bool

	timer rotationTimer
	pin   pinState

	defaultDP string // ES10a defaultDpAddress, empty: none
}

func (c *Card) init(cfg CardConfig) error {
	s := state{cfg: cfg, maxCh: cfg.MaxChannels, respLimit: cfg.ResponseLimit, pin: newPINState()}
	if s.maxCh == 0 {
		s.maxCh = 3
	}
	if s.maxCh < 1 || s.maxCh > 19 {
		return fieldErr("max_channels", "must be 1-19, got %d", cfg.MaxChannels)
	}
	if s.respLimit == 0 {
		s.respLimit = 256
	}
	if s.respLimit < 1 || s.respLimit > 256 {
		return fieldErr("response_limit", "must be 1-256, got %d", cfg.ResponseLimit)
	}
	if cfg.ICCID != "" {
		if err := checkICCID("iccid", cfg.ICCID); err != nil {
			return err
		}
	}
	if cfg.EID != "" && (len(cfg.EID) != 32 || !isDigits(cfg.EID)) {
		return fieldErr("eid", "must be 32 decimal digits (got %d characters)", len(cfg.EID))
	}
	profs := cfg.Profiles
	switch {
	case len(cfg.IMSIs) > 0 && len(profs) > 0:
		return fieldErr("imsis", "use either imsis or profiles, not both")
	case len(cfg.IMSIs) > 0:
		profs = []ProfileConfig{{IMSIs: cfg.IMSIs}}
	case len(profs) == 0:
		return fieldErr("profiles", "a card needs at least one profile or imsis")
	}
	if cfg.EID == "" && len(profs) > 1 {
		return fieldErr("profiles", "a card without eid holds exactly one profile, got %d", len(profs))
	}
	seen := map[string]int{}
	for i, pc := range profs {
		// Errors name the field as the YAML spells it, shorthand or not.
		prefix := fmt.Sprintf("profiles[%d].", i)
		if len(cfg.IMSIs) > 0 {
			prefix = ""
		}
		p, err := buildProfile(prefix, i, pc, cfg.ICCID)
		if err != nil {
			return err
		}
		if j, dup := seen[strings.ToUpper(p.iccid)]; dup {
			return fieldErr(fmt.Sprintf("profiles[%d].iccid", i), "same ICCID as profiles[%d]", j)
		}
		seen[strings.ToUpper(p.iccid)] = i
		s.profs = append(s.profs, p)
	}
	switch {
	case cfg.EnabledProfile == -1 && cfg.EID != "":
	case cfg.EnabledProfile < 0 || cfg.EnabledProfile >= len(s.profs):
		return fieldErr("enabled_profile", "must be 0-%d (or -1 on an eUICC), got %d", len(s.profs)-1, cfg.EnabledProfile)
	}
	s.enabled, s.live = cfg.EnabledProfile, cfg.EnabledProfile
	if s.live >= 0 {
		if cfg.ActiveIMSI < 0 || cfg.ActiveIMSI >= len(s.profs[s.live].imsis) {
			return fieldErr("active_imsi", "must be 0-%d, got %d", len(s.profs[s.live].imsis)-1, cfg.ActiveIMSI)
		}
		s.profs[s.live].active = cfg.ActiveIMSI
	} else if cfg.ActiveIMSI != 0 {
		return fieldErr("active_imsi", "must be 0 with no profile enabled")
	}
	if err := s.initApplet(cfg.Applet); err != nil {
		return err
	}
	s.chans = make([]*channel, s.maxCh+1)
	s.chans[0] = newBasicChannel()
	c.state = s
	return nil
}

func (s *state) initApplet(a AppletConfig) error {
	aid := a.AID
	if aid == "" {
		aid = DefaultAppletAID
	}
	b, err := hex.DecodeString(aid)
	if err != nil || len(b) < 5 || len(b) > 16 {
		return fieldErr("applet.aid", "must be 5-16 bytes of hex")
	}
	if !a.Disabled {
		s.appletAID = b
	}
	switch a.Refresh {
	case "", "uicc_reset":
		s.appletQ = RefreshUICCReset
	case "naa_init":
		s.appletQ = RefreshNAAInit
	default:
		return fieldErr("applet.refresh", "must be uicc_reset or naa_init, got %q", a.Refresh)
	}
	// The applet counts in whole seconds (GET CONFIG reports seconds).
	if a.Rotation.PollEvery < 0 {
		return fieldErr("applet.rotation.poll_every", "must not be negative")
	}
	if a.Rotation.Enabled && a.Rotation.RotateAfter < time.Second {
		return fieldErr("applet.rotation.rotate_after", "must be at least 1s when rotation is enabled")
	}
	s.rot = a.Rotation
	return nil
}

func checkICCID(field, iccid string) error {
	if len(iccid) < 18 || len(iccid) > 20 || !isHex(iccid) {
		return fieldErr(field, "must be 18-20 hex digits (got %d characters)", len(iccid))
	}
	return nil
}

func buildProfile(prefix string, i int, pc ProfileConfig, cardICCID string) (profile, error) {
	f := func(name string) string { return prefix + name }
	p := profile{
		iccid: pc.ICCID, name: pc.Name, provider: pc.Provider, nickname: pc.Nickname,
		class: pc.Class, disallowDisable: pc.DisallowDisable, pending: -1,
	}
	if p.iccid == "" {
		if cardICCID == "" {
			return p, fieldErr(f("iccid"), "required when the card has no iccid")
		}
		p.iccid = cardICCID
	} else if err := checkICCID(f("iccid"), p.iccid); err != nil {
		return p, err
	}
	switch pc.Class {
	case "test":
		p.classCode = 0
	case "provisioning":
		p.classCode = 1
	case "", "operational":
		p.class, p.classCode = "operational", 2
	default:
		return p, fieldErr(f("class"), "must be test, provisioning or operational, got %q", pc.Class)
	}
	for name, v := range map[string]string{"name": pc.Name, "provider": pc.Provider, "nickname": pc.Nickname} {
		if len(v) > 64 {
			return p, fieldErr(f(name), "longer than 64 bytes")
		}
	}
	if pc.AID == "" {
		p.aid, _ = hex.DecodeString(fmt.Sprintf("A0000005591010FFFFFFFF890000%02X00", 0x10+i))
	} else {
		b, err := hex.DecodeString(pc.AID)
		if err != nil || len(b) < 5 || len(b) > 16 {
			return p, fieldErr(f("aid"), "must be 5-16 bytes of hex")
		}
		p.aid = b
	}
	if len(pc.IMSIs) == 0 {
		return p, fieldErr(f("imsis"), "at least one IMSI is required")
	}
	if len(pc.IMSIs) > 255 {
		return p, fieldErr(f("imsis"), "at most 255 IMSIs")
	}
	for j, ic := range pc.IMSIs {
		e, err := buildIMSI(fmt.Sprintf("%s[%d]", f("imsis"), j), ic)
		if err != nil {
			return p, err
		}
		p.imsis = append(p.imsis, e)
	}
	return p, nil
}

func buildIMSI(field string, ic IMSIConfig) (imsiEntry, error) {
	if len(ic.IMSI) < 6 || len(ic.IMSI) > 15 || !isDigits(ic.IMSI) {
		// The value itself stays out of the message: IMSIs are never logged.
		return imsiEntry{}, fieldErr(field+".imsi", "must be 6-15 decimal digits (got %d characters)", len(ic.IMSI))
	}
	if ic.MNCLength == 0 {
		ic.MNCLength = defaultMNCLength(ic.IMSI)
	}
	if ic.MNCLength != 2 && ic.MNCLength != 3 {
		return imsiEntry{}, fieldErr(field+".mnc_length", "must be 2 or 3, got %d", ic.MNCLength)
	}
	if len(ic.SPN) > 16 {
		return imsiEntry{}, fieldErr(field+".spn", "longer than 16 characters")
	}
	for k := 0; k < len(ic.SPN); k++ {
		if _, ok := gsm7(ic.SPN[k]); !ok {
			return imsiEntry{}, fieldErr(field+".spn", "character %d is not in the GSM 7-bit default alphabet subset", k)
		}
	}
	for k, pl := range ic.FPLMN {
		if (len(pl) != 5 && len(pl) != 6) || !isDigits(pl) {
			return imsiEntry{}, fieldErr(fmt.Sprintf("%s.fplmn[%d]", field, k), "must be MCC+MNC, 5 or 6 digits, got %q", pl)
		}
	}
	ic.FPLMN = append([]string(nil), ic.FPLMN...)
	return imsiEntry{cfg: ic, fplmn: encFPLMN(ic.FPLMN)}, nil
}

// liveProfile is the profile the files show, nil with none enabled.
func (s *state) liveProfile() *profile {
	if s.live < 0 || s.live >= len(s.profs) { // the latter only for a zero Card
		return nil
	}
	return &s.profs[s.live]
}

func (s *state) liveEntry() *imsiEntry {
	p := s.liveProfile()
	if p == nil {
		return nil
	}
	return &p.imsis[p.active]
}

func (c *Card) iccid() string {
	if p := c.liveProfile(); p != nil {
		return p.iccid
	}
	return c.cfg.ICCID
}

func (c *Card) imsi() string { return c.activeEntry().IMSI }

func (c *Card) activeEntry() IMSIConfig {
	if e := c.liveEntry(); e != nil {
		return e.cfg
	}
	return IMSIConfig{}
}

func (c *Card) profiles() []ProfileInfo {
	out := make([]ProfileInfo, len(c.profs))
	for i, p := range c.profs {
		out[i] = ProfileInfo{
			ICCID: p.iccid, AID: append([]byte(nil), p.aid...), Name: p.name, Provider: p.provider,
			Nickname: p.nickname, Class: p.class, Enabled: i == c.enabled, Active: p.active,
		}
		for _, e := range p.imsis {
			out[i].IMSIs = append(out[i].IMSIs, e.cfg.IMSI)
		}
	}
	return out
}

func (c *Card) imsis() []string {
	p := c.liveProfile()
	if p == nil {
		return nil
	}
	out := make([]string, len(p.imsis))
	for i, e := range p.imsis {
		out[i] = e.cfg.IMSI
	}
	return out
}

func (c *Card) activeIndex() int {
	if p := c.liveProfile(); p != nil {
		return p.active
	}
	return -1
}

// queueRefresh records a REFRESH; a UICC reset absorbs an NAA init.
func (s *state) queueRefresh(q byte, reason string) {
	if s.refreshPending && s.refresh.Qualifier == RefreshUICCReset {
		q = RefreshUICCReset
	}
	s.refresh, s.refreshPending = Refresh{Qualifier: q, Reason: reason}, true
}

// setActive is the applet's SET ACTIVE. With refreshNow the files follow at
// once and a REFRESH is queued; otherwise the index waits for the next
// Reset or NAAInit.
func (c *Card) setActive(index int, refreshNow bool, reason string) error {
	p := c.liveProfile()
	if p == nil || index < 0 || index >= len(p.imsis) {
		return ErrIndex
	}
	if !refreshNow {
		p.pending = index
		if index == p.active {
			p.pending = -1
		}
		return nil
	}
	p.pending = -1
	if index == p.active {
		return nil
	}
	p.active = index
	c.queueRefresh(c.appletQ, reason)
	return nil
}

func (c *Card) reset() {
	c.live = c.enabled
	c.naaInit()
	for i := 1; i < len(c.chans); i++ {
		c.chans[i] = nil
	}
	c.chans[0] = newBasicChannel()
	c.pin.verified = false
}

func (c *Card) naaInit() {
	if p := c.liveProfile(); p != nil && p.pending >= 0 {
		p.active, p.pending = p.pending, -1
	}
}
