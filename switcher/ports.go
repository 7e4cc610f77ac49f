package switcher

import (
	"context"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
)

// Modem is what the switcher needs from a modem, shaped for its decisions.
// The daemon adapts *modem.Modem to it. Methods that the modem cannot do
// return an error wrapping modem.ErrNotSupported; that counts as "not
// observed", never as a sick modem. Timeouts (modem.ErrTimeout) count
// towards the recovery ladder; modem.ErrPortLost and modem.ErrClosed mean
// the port is gone.
type Modem interface {
	SIMState(ctx context.Context) (modem.SIMState, error)
	IMSI(ctx context.Context) (modem.IMSI, error)
	ICCID(ctx context.Context) (modem.ICCID, error)
	// Registrations returns the current status of every domain the modem reports.
	Registrations(ctx context.Context) ([]modem.Registration, error)
	Operator(ctx context.Context) (modem.Operator, error)
	Signal(ctx context.Context) (modem.Signal, error)
	ServingCell(ctx context.Context) (modem.ServingCell, []modem.Neighbour, error)
	// Scan is +COPS=?: slow (up to minutes), called only to check a target.
	Scan(ctx context.Context) ([]modem.NetworkEntry, error)

	DefinePDP(ctx context.Context, p PDPSpec) error
	ActivatePDP(ctx context.Context, cid int) error
	// DeactivatePDP takes the context down (no data over a network the
	// allowlist does not name).
	DeactivatePDP(ctx context.Context, cid int) error
	PDPAddress(ctx context.Context, cid int) (modem.PDPAddress, error)
	// SetFunctionality is +CFUN=<fun> (0 minimum, 1 full, 4 airplane).
	SetFunctionality(ctx context.Context, fun int) error
	// Resync recovers the AT channel (flush, AT, ATE0) without touching the radio.
	Resync(ctx context.Context) error
	// Reset restarts the modem (+CFUN=1,1 or vendor).
	Reset(ctx context.Context) error
	// SelectProfile makes the SIM carry the profile by the configured method.
	SelectProfile(ctx context.Context, sel Selector) error
	// SelectNetwork holds the modem to one network (+COPS=1, manual), or
	// with a zero PLMN returns it to automatic selection (+COPS=0).
	SelectNetwork(ctx context.Context, plmn modem.PLMN) error
	// LockRAT restricts the modem to the given technologies (the adapter
	// picks the closest mode the dialect has, never one that adds 2G).
	LockRAT(ctx context.Context, techs []modem.Tech) error
	// RATLock reads the RAT configuration back as technologies.
	RATLock(ctx context.Context) ([]modem.Tech, error)

	// Events delivers URC-derived events. The channel is never closed by
	// the switcher; a closed channel means the modem is gone.
	Events() <-chan ModemEvent
}

// DeviceModem is the optional part of a Modem that reads the modem's own
// identity; with it, a swapped modem (D10b) is noticed.
type DeviceModem interface {
	IMEI(ctx context.Context) (string, error)
}

// PDPSpec is the PDP context a profile needs.
type PDPSpec struct {
	CID      int
	Type     string // IP, IPV6, IPV4V6
	APN      string
	Auth     profiles.AuthType
	User     string
	Password profiles.Secret // masked when printed; Reveal() for the modem
}

// Selector is how to select one profile on the SIM.
type Selector struct {
	Method profiles.Method
	Index  int            // applet IMSI index
	Slot   int            // physical slot, 1-based
	ICCID  profiles.ICCID // eUICC profile
	// Applet is the APDU template for the applet method.
	Applet profiles.Applet
	// Refresh asks the eUICC for a REFRESH after enabling.
	Refresh bool
}

// ModemEventKind classifies a URC-derived event.
type ModemEventKind int

// Modem event kinds.
const (
	ModemEventRegistration ModemEventKind = iota + 1 // a registration URC (Registration set)
	ModemEventSIM                                    // SIM state changed: re-read identity
	ModemEventSIMRemoved
	ModemEventSIMInserted
	ModemEventReset         // the modem restarted on its own
	ModemEventNetworkDetach // +CGEV: NW DETACH
	ModemEventPDNDeact      // +CGEV: NW PDN DEACT
	ModemEventJamming       // vendor jamming report (Jammed says which way)
	ModemEventRefresh       // SIM toolkit REFRESH: an applet may have switched
)

// ModemEvent is one URC-derived event.
type ModemEvent struct {
	At           time.Time
	Kind         ModemEventKind
	Registration *modem.Registration
	Jammed       bool
}

// ProbeResult is one data-path probe round.
type ProbeResult struct {
	OK      bool          `json:"ok"`
	Latency time.Duration `json:"latency_ns"`
	// Detail says what failed ("http 503", "timeout"); never an identity.
	Detail string `json:"detail,omitempty"`
}

// Prober checks the data path through the profile's PDP context (HTTP 204
// or a TCP connect; the daemon implements it in internal/probe).
type Prober interface {
	Probe(ctx context.Context, profile string) (ProbeResult, error)
}

// Clock is the switcher's only source of time.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock (also the fake one inside testing/synctest).
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// After implements Clock.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Usage reports a profile's usage standing; *profiles.Ledger implements it.
// The switcher only reads; the daemon feeds the ledger and serialises access.
type Usage interface {
	Report(p *profiles.Profile, now time.Time) profiles.Report
}

// Journal records switches so a restart in the middle of one can be
// reconciled. The daemon implements it on bbolt; Intent is written before
// the modem is touched and Outcome after the switch ends either way.
type Journal interface {
	Intent(ctx context.Context, in Intent) error
	Outcome(ctx context.Context, out Outcome) error
}

// Intent is a switch about to be made.
type Intent struct {
	Seq     uint64    `json:"seq"`
	At      time.Time `json:"at"`
	From    string    `json:"from"`
	To      string    `json:"to"`
	Trigger Trigger   `json:"trigger"`
	Reasons []Reason  `json:"reasons"`
}

// Outcome is how a journalled switch ended.
type Outcome struct {
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Active string    `json:"active"` // the profile in use afterwards ("" unknown)
	OK     bool      `json:"ok"`
	Reason Reason    `json:"reason"`
}
