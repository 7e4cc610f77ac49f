package switcher

import (
	"net/netip"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher/threat"
)

// The switcher's decision state, in small groups. Each group is reset as a
// whole where its meaning ends (dataPath.down on a lost registration or a
// new profile), rather than field by field.

// switchState is the switch procedure: which profile is active, the switch
// under way, its deadline and journal, and the budgets that pace switches.
type switchState struct {
	active, prev  string
	deadline      time.Time
	verifyWhy     Reason
	flight        inFlight // the switch under way, to undo or fail forward from
	pending       *Intent
	needReconcile bool
	budget        switchBudget // automatic switches (the anti-flap cap)
	opBudget      switchBudget // operator switches: a separate budget, so they never block a failover
	selRefused    selectBackoff
	lastSwitch    time.Time
	// otherSwitch: the last identity change someone else made (the
	// carrier's OTA, an applet, a hand on the SIM) that imsid adopted;
	// the dwell counts from it too (onSince).
	otherSwitch time.Time
	seq         uint64
}

// selection is the modem's network selection: steering to an allowed
// network, isolation off the allowlist, and networks to avoid.
type selection struct {
	offList    offListRun               // polls on a network outside the active profile's allowlist
	isolated   bool                     // data held off: the serving network is outside the allowlist
	steer      modem.PLMN               // the network the modem was told to hold (zero: automatic)
	steerKnown bool                     // steer is what the modem has (false after a reset or reopen)
	steerAt    time.Time                // when steer was last sent
	deadNet    map[modem.PLMN]time.Time // networks that carried no data for us lately (steering avoids them)
	refusedSel map[selKey]time.Time     // manual selections the modem refused lately
}

// memory is what the switcher has learnt about profiles and networks and
// keeps across switches: quarantines, pins, departures, scans and scores.
type memory struct {
	quar      quarantines
	pin       *Pin
	failures  map[string][]time.Time
	left      map[string]departure // each profile's last automatic departure, and why
	seenAt    map[string]time.Time // last scan or camped cell that showed a profile's network (trackReach)
	reach     reach                // the camped network, for sightings
	sig       map[string]*SignalTrack
	scan      []modem.NetworkEntry
	scanAt    time.Time
	actHist   []scoreAt // the active profile's recent totals (softHold)
	actHistOf string
	fbEvery   time.Duration // fail-back scan interval, doubling while unseen
	fbNext    time.Time
	scores    []Score
}

// dataPath is the active profile's data session and its probes. It starts
// over (down) whenever the registration or the profile changes.
type dataPath struct {
	pdpUp      bool
	addrs      []netip.Addr
	pdpTried   bool
	pdpPLMN    modem.PLMN // where pdpTried was spent
	pdpTries   int        // define/activate attempts in this registration
	pdpRetryAt time.Time  // no new attempt before this
	probeFails int
	// stallFailed: the failed rounds began on a stall of a receiving link,
	// which counts as one failure of its own (dataPathDead).
	stallFailed bool
	probesSaved uint64  // rounds not sent because traffic proved the path
	traffic     traffic // the modem's byte counters, for traffic-aware probing
	lastProbe   *ProbeResult
	lastProbeAt time.Time
	noDataSince time.Time // registered, no data session since
}

// service is the evidence that the active profile lost its registration.
type service struct {
	// changedAt: the last identity change imsid did not make (adopted).
	changedAt time.Time
	// attaching: the identity adopted at changedAt has not registered
	// yet (stillAttaching).
	attaching      bool
	noServiceSince time.Time
	lossEvidence   int    // polls in a row that explained the loss of service
	lossWhy        string // the last explanation
}

// failure is the failed state's retry back-off.
type failure struct {
	failBackoff      time.Duration
	failedUntil      time.Time
	failedRegistered bool // failed although registered (no data): registration coming back is no news
	// roundTries counts failures since the back-off last doubled: it
	// doubles once per round of retries, one per configured profile, so a
	// retry that takes the profiles in turn reaches the last of them in
	// minimum steps (DST seed 7992: 30 s, 60 s, 2 min between three
	// profiles left the working one 5 min away).
	roundTries int
	// lastFailed is when each profile last failed to carry data as the
	// active one (the steady state's fall into failed): a last resort
	// takes the profile that failed longest ago, and a quarantine's Since
	// does not see these.
	lastFailed map[string]time.Time
}

// threatState is the threat engine's latest result and what imsid did
// about it: suspension, RAT lock checks, its own events to report.
type threatState struct {
	appletHoldTill time.Time
	jammedURC      bool
	jamSeenAt      time.Time // last finding that asked to suspend switching
	suspended      bool
	imei           string // the modem's IMEI, read once per modem session (D10b)
	threatRes      *threat.Result
	ownEvents      []threat.Event
	actedEpisode   map[threat.Action]int
	ratWant        []modem.Tech // the lock as read back right after we wrote it
	ratCheckedAt   time.Time
	ratCheckNow    bool
	ratReadback    *threat.RATLockReadback
}

// recoveryState is the modem recovery ladder's progress.
type recoveryState struct {
	sickTicks int
	rec       RecoveryStats
	recStep   int
}

// down forgets the data session: the registration or the profile changed,
// so nothing the probes or the PDP context said still holds.
func (d *dataPath) down() {
	d.pdpUp, d.pdpTried, d.probeFails, d.stallFailed, d.noDataSince = false, false, 0, false, time.Time{}
}

func newMemory() memory {
	return memory{quar: newQuarantines(), failures: map[string][]time.Time{}, left: map[string]departure{},
		seenAt: map[string]time.Time{}, sig: map[string]*SignalTrack{}}
}
