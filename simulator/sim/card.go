package sim

import "time"

// REFRESH qualifiers (ETSI TS 102 223) the card can ask for.
const (
	RefreshNAAInit   byte = 0x03
	RefreshUICCReset byte = 0x04
)

// Refresh is a pending proactive REFRESH the interpreter must run.
type Refresh struct {
	Qualifier byte   // RefreshUICCReset or RefreshNAAInit
	Reason    string // e.g. "applet SET ACTIVE", "eUICC EnableProfile", "rotation"
}

// ProfileInfo describes one profile, for the interpreter and tests.
type ProfileInfo struct {
	ICCID    string
	AID      []byte
	Name     string
	Provider string
	Nickname string
	Class    string
	Enabled  bool
	IMSIs    []string
	Active   int // active IMSI index within this profile
}

// Card is one virtual UICC. Not safe for concurrent use.
type Card struct {
	state
}

// NewCard validates cfg and builds a powered-on card.
func NewCard(cfg CardConfig) (*Card, error) {
	c := &Card{}
	if err := c.init(cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// ICCID is the ICCID the card shows now (EF_ICCID).
func (c *Card) ICCID() string { return c.iccid() }

// IMSI is the active IMSI as EF_IMSI shows it now; "" with no profile enabled.
func (c *Card) IMSI() string { return c.imsi() }

// EID is the eUICC's EID; "" on a plain SIM.
func (c *Card) EID() string { return c.cfg.EID }

// IsEUICC reports whether the card has an ISD-R.
func (c *Card) IsEUICC() bool { return c.cfg.EID != "" }

// SPN is the active IMSI's service provider name.
func (c *Card) SPN() string { return c.activeEntry().SPN }

// MNCLength is the active IMSI's MNC length (EF_AD), 2 or 3; 0 with no
// profile enabled.
func (c *Card) MNCLength() int { return c.activeEntry().MNCLength }

// FPLMN is the active IMSI's forbidden PLMN list.
func (c *Card) FPLMN() []string {
	if e := c.liveEntry(); e != nil {
		return decFPLMN(e.fplmn)
	}
	return nil
}

// Profiles lists every profile on the card.
func (c *Card) Profiles() []ProfileInfo { return c.profiles() }

// IMSIs lists the enabled profile's IMSIs.
func (c *Card) IMSIs() []string { return c.imsis() }

// ActiveIndex is the index of the active IMSI in IMSIs; -1 with no profile.
func (c *Card) ActiveIndex() int { return c.activeIndex() }

// SetActive switches the applet to IMSI index as a SET ACTIVE APDU would
// (Go control API for scenarios): with refreshNow the files change at once
// and a REFRESH is queued, otherwise the switch waits for the next Reset.
func (c *Card) SetActive(index int, refreshNow bool) error {
	return c.setActive(index, refreshNow, "control")
}

// EnableProfile enables the profile with that ICCID as ES10c EnableProfile
// would (Go control API), returning the ES10c result code (0 ok).
func (c *Card) EnableProfile(iccid string, refresh bool) (int, error) {
	return c.enableByICCID(iccid, refresh)
}

// SetCATBusy is a test knob: while busy, EnableProfile/DisableProfile answer
// catBusy (5) and the applet's SET ACTIVE answers 6985.
func (c *Card) SetCATBusy(busy bool) { c.catBusy = busy }

// TakeRefresh returns and clears the pending REFRESH, if any.
func (c *Card) TakeRefresh() (Refresh, bool) {
	r, ok := c.refresh, c.refreshPending
	c.refresh, c.refreshPending = Refresh{}, false
	return r, ok
}

// Reset is a card power cycle (UICC reset): every logical channel closes,
// pending GET RESPONSE and STORE DATA state is dropped, and pending
// profile or IMSI changes take effect.
func (c *Card) Reset() { c.reset() }

// NAAInit re-initialises the network access application: pending IMSI
// changes take effect but logical channels stay open and profiles stay.
func (c *Card) NAAInit() { c.naaInit() }

// ObserveRegistration tells the applet whether the modem is registered on
// an acceptable network at now. Acceptable stops the rotation timer; not
// acceptable starts it unless it is already running.
func (c *Card) ObserveRegistration(now time.Time, acceptable bool) { c.observe(now, acceptable) }

// Tick lets the rotation timer fire if its deadline has passed by now.
func (c *Card) Tick(now time.Time) { c.tick(now) }

// NextDeadline is when Tick should next be called; false if no timer runs.
func (c *Card) NextDeadline() (time.Time, bool) { return c.nextDeadline() }

// PowerOff pauses the rotation timer (CFUN=0/4, modem off).
func (c *Card) PowerOff(now time.Time) { c.powerOff(now) }

// PowerOn resumes the rotation timer with the time that was left.
func (c *Card) PowerOn(now time.Time) { c.powerOn(now) }
