package threat

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/imsid/imsid/modem"
)

// Observation is one timestamped snapshot or event. Every part is optional:
// a periodic poll fills the serving cell, signal and neighbours; a URC
// becomes an Observation holding just its Registration or its Events. A nil
// part means "not observed this time", never "observed empty".
type Observation struct {
	At time.Time
	// Profile is the name of the IMSI profile in use (the switcher's key
	// into Config.Profiles); "" when not known yet.
	Profile string

	// Registration is a +CEREG/+CREG/+CGREG/+C5GREG report, with the reject
	// cause when the modem gives one (n=3/5).
	Registration *modem.Registration
	// Operator is the +COPS? answer (numeric PLMN and AcT).
	Operator *modem.Operator
	// Serving is the vendor serving-cell report, signal included.
	Serving *modem.ServingCell
	// Signal is a portable signal report (+CESQ) used when Serving has no
	// signal of its own.
	Signal *modem.Signal
	// Neighbours is the neighbour-cell list; non-nil with no cells means the
	// modem was asked and reported none.
	Neighbours *NeighbourList
	// SIM is the SIM and modem identity as read (+CCID, +CIMI, +CGSN, +CPIN?).
	SIM *SIMIdentity
	// RATLock is a read-back of the modem's RAT configuration.
	RATLock *RATLockReadback
	// Subscription is what the SIM platform says about the profile's
	// subscription, when it was asked (D3 uses it for causes #3/#6/#8).
	Subscription Subscription

	Events []Event
}

// NeighbourList is one neighbour-cell poll.
type NeighbourList struct {
	Cells []NeighbourCell
}

// NeighbourCell is a neighbour row with the reselection parameters some
// modules report (Quectel QENG "neighbourcell"). Nil means not reported.
type NeighbourCell struct {
	modem.Neighbour
	// Intra is true for an LTE intra-frequency row (same EARFCN as serving).
	Intra       bool
	Priority    *int // cell_resel_priority
	ThreshXHigh *int
	ThreshXLow  *int
}

// SIMIdentity is the identity read from the SIM and the modem. Empty
// strings are values not read this time.
type SIMIdentity struct {
	ICCID modem.ICCID
	IMSI  modem.IMSI
	IMEI  string
	State modem.SIMState // SIMUnknown when not read
}

// RATLockReadback is the modem's RAT preference as read back, against the
// set imsid wrote. The switcher translates the dialect (nwscanmode, CNMP,
// URAT) into technology sets.
type RATLockReadback struct {
	Want []modem.Tech
	Got  []modem.Tech
}

// Subscription is the SIM platform's view of a subscription.
type Subscription int

// Subscription states.
const (
	SubscriptionUnknown Subscription = iota
	SubscriptionActive
	SubscriptionSuspended
)

func (s Subscription) String() string {
	switch s {
	case SubscriptionActive:
		return "active"
	case SubscriptionSuspended:
		return "suspended"
	}
	return "unknown"
}

// EventKind is the kind of a discrete event.
type EventKind int

// Event kinds. The Own* kinds are actions imsid itself took; they open the
// suppression window in which re-attach noise is expected.
const (
	EventNetworkDetach     EventKind = iota + 1 // +CGEV: NW DETACH
	EventPDNDeact                               // +CGEV: NW PDN DEACT
	EventMEDetach                               // +CGEV: ME DETACH (our own / PSM; ignored by D9)
	EventJamming                                // vendor jamming URC; Jammed says which way
	EventSIMRemoved                             // hot-plug URC: SIM out
	EventSIMInserted                            // hot-plug URC: SIM in
	EventOwnSwitchStarted                       // we started a profile switch
	EventOwnSwitchFinished                      // our profile switch ended (either way)
	EventOwnCFUN                                // we cycled CFUN / reset the modem
	EventOwnRATChange                           // we rewrote the RAT configuration
	EventMaintenance                            // a signed maintenance window (SIM swap) until Until
	EventOwnNetworkSelect                       // we told the modem which network to select (+COPS)
)

var eventNames = map[EventKind]string{
	EventNetworkDetach: "nw_detach", EventPDNDeact: "nw_pdn_deact", EventMEDetach: "me_detach",
	EventJamming: "jamming", EventSIMRemoved: "sim_removed", EventSIMInserted: "sim_inserted",
	EventOwnSwitchStarted: "own_switch_started", EventOwnSwitchFinished: "own_switch_finished",
	EventOwnCFUN: "own_cfun", EventOwnRATChange: "own_rat_change", EventMaintenance: "maintenance",
	EventOwnNetworkSelect: "own_network_select",
}

func (k EventKind) String() string {
	if n, ok := eventNames[k]; ok {
		return n
	}
	return "unknown_event"
}

// Event is a discrete event observed at the Observation's time.
type Event struct {
	Kind   EventKind
	Jammed bool      // EventJamming: true = JAMMED, false = OPERATIVE
	Until  time.Time // EventMaintenance: end of the window
}

// servingCell returns the serving-cell identity when the observation has one.
func (o *Observation) servingKey() (CellKey, bool) {
	if o.Serving == nil || o.Serving.CellID == nil {
		return CellKey{}, false
	}
	plmn := o.Serving.PLMN
	if plmn.IsZero() && o.Operator != nil {
		plmn = o.Operator.PLMN
	}
	if plmn.IsZero() {
		return CellKey{}, false
	}
	return CellKey{PLMN: plmn, CI: *o.Serving.CellID}, true
}

// servingPLMN is the network we are on, from COPS first, then the cell.
func (o *Observation) servingPLMN() modem.PLMN {
	if o.Operator != nil && !o.Operator.PLMN.IsZero() {
		return o.Operator.PLMN
	}
	if o.Serving != nil {
		return o.Serving.PLMN
	}
	return modem.PLMN{}
}

// tech is the serving technology, from the most specific source.
func (o *Observation) tech() modem.Tech {
	if o.Serving != nil && o.Serving.Tech != modem.TechUnknown {
		return o.Serving.Tech
	}
	if o.Registration != nil && o.Registration.AcT != nil {
		return o.Registration.AcT.Tech()
	}
	if o.Operator != nil && o.Operator.AcT != nil {
		return o.Operator.AcT.Tech()
	}
	return modem.TechUnknown
}

// signal is the serving signal: the serving cell's own if it has RSRP,
// else the portable report.
func (o *Observation) signal() *modem.Signal {
	if o.Serving != nil && (o.Serving.Signal.RSRP != nil || o.Serving.Signal.SINR != nil || o.Serving.Signal.RSSI != nil) {
		return &o.Serving.Signal
	}
	return o.Signal
}

func (o *Observation) rsrp() (float64, bool) {
	if s := o.signal(); s != nil && s.RSRP != nil {
		return float64(*s.RSRP), true
	}
	return 0, false
}

func (o *Observation) sinr() (float64, bool) {
	if s := o.signal(); s != nil && s.SINR != nil {
		return float64(*s.SINR), true
	}
	return 0, false
}

func (o *Observation) rsrq() (float64, bool) {
	if s := o.signal(); s != nil && s.RSRQ != nil {
		return float64(*s.RSRQ), true
	}
	return 0, false
}

func (o *Observation) rssi() (float64, bool) {
	if s := o.signal(); s != nil && s.RSSI != nil {
		return float64(*s.RSSI), true
	}
	return 0, false
}

func (o *Observation) radio() (Radio, bool) {
	if o.Serving == nil || o.Serving.EARFCN == nil || o.Serving.PCI == nil {
		return Radio{}, false
	}
	return Radio{EARFCN: *o.Serving.EARFCN, PCI: *o.Serving.PCI}, true
}

func (o *Observation) area() (uint32, bool) {
	if o.Serving != nil && o.Serving.Area != nil {
		return *o.Serving.Area, true
	}
	if o.Registration != nil && o.Registration.Area != nil {
		return *o.Registration.Area, true
	}
	return 0, false
}

func (o *Observation) has(k EventKind) bool {
	for _, e := range o.Events {
		if e.Kind == k {
			return true
		}
	}
	return false
}

// ErrNotFinite is wrapped when a signal value is NaN or infinite.
var ErrNotFinite = errors.New("not a finite number")

// validate rejects values no modem can report, which would otherwise end
// up in the baseline's statistics.
func (o *Observation) validate() error {
	check := func(prefix string, s *modem.Signal) error {
		if s == nil {
			return nil
		}
		for _, f := range []struct {
			name string
			v    *float64
		}{
			{"RSSI", (*float64)(s.RSSI)}, {"RSCP", (*float64)(s.RSCP)}, {"RSRP", (*float64)(s.RSRP)},
			{"EcIo", (*float64)(s.EcIo)}, {"RSRQ", (*float64)(s.RSRQ)}, {"SINR", (*float64)(s.SINR)},
		} {
			if f.v != nil && (math.IsNaN(*f.v) || math.IsInf(*f.v, 0)) {
				return &ObservationError{Field: prefix + f.name, Err: ErrNotFinite}
			}
		}
		return nil
	}
	if o.Serving != nil {
		if err := check("Serving.Signal.", &o.Serving.Signal); err != nil {
			return err
		}
	}
	if err := check("Signal.", o.Signal); err != nil {
		return err
	}
	if o.Neighbours != nil {
		for i := range o.Neighbours.Cells {
			if err := check(fmt.Sprintf("Neighbours.Cells[%d].Signal.", i), &o.Neighbours.Cells[i].Signal); err != nil {
				return err
			}
		}
	}
	return nil
}
