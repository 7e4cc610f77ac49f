package switcher

import (
	"slices"
	"time"

	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher/threat"
)

// This file is the steady-state decision: a pure function of a situation
// (observations, memory and time, gathered by situation() in decide.go)
// to one verdict with its reasons. Nothing here reads the modem or changes
// the switcher; the executor (steadyStep) carries the verdict out.
//
// Rules are tried in a fixed precedence, highest first, and the first
// class with a cause decides:
//
//  1. safety   — a Critical threat on the active profile, a threat
//     response that says leave, a network outside the allowlist. Nothing
//     overrides it: no jamming suspension, dwell, switch cap or hold (a
//     pin yields unless policy.critical_overrides_pin is false).
//  2. liveness — no service, a dead data path, an identity no profile
//     matches. Not held by dwell or the cap; suspended only while jamming
//     is being observed (switching cannot escape a jammer).
//  3. operator — a pin holds the active profile against cost and signal.
//  4. cost and signal — a better or cheaper profile, a used-up data cap:
//     held by dwell, the automatic switch budget, a jamming suspension,
//     and a fresh scan of the target.

// ruleClass is a rule's place in the precedence.
type ruleClass int

const (
	classNone ruleClass = iota
	classCost
	classOperator
	classLiveness
	classSafety
)

// departCause is why a profile was left, which decides when an automatic
// rule may enter it again.
type departCause int

const (
	departNone     departCause = iota
	departGone                 // its network was gone: a scan that sees it is evidence it is back
	departDeadCore             // registered, but no data passed: only time says the core is back
	departThreat               // left on a threat: no automatic return while the hold lasts
	departRefused              // its network refused the identity itself (#2, #3, #6, #7, #8)
	departOther                // any other hard cause
)

func (c departCause) String() string {
	switch c {
	case departGone:
		return "network gone"
	case departDeadCore:
		return "dead data path"
	case departThreat:
		return "threat"
	case departRefused:
		return "identity refused"
	case departOther:
		return "hard trigger"
	}
	return ""
}

// departure is one profile's last automatic departure.
type departure struct {
	At    time.Time   `json:"at"`
	Cause departCause `json:"cause"`
	// PLMN is the network the profile was on when it was left (zero:
	// unknown, e.g. restored from an older state file).
	PLMN modem.PLMN `json:"plmn,omitzero"`
}

// deadCoreRetry is how long steering avoids a network that carried no data
// for us, or that refused a manual selection.
const deadCoreRetry = 10 * time.Minute

// deadCoreLiveRetry is how long a profile left for a dead data path is
// kept out of a liveness failover (score and cost wait departureTTL). The
// liveness rule runs only when the active profile carries no data either,
// so trying the old one again costs nothing the device has; waiting longer
// would break the data-back bound (docs/switcher.md) whenever the old core
// recovered first.
const deadCoreLiveRetry = 3 * time.Minute

// candidate is one non-active profile as the rules see it.
type candidate struct {
	Score
	threat threat.Severity
	// left is the profile's last automatic departure, if within departureTTL.
	left *departure
	// seenBack: a scan after that departure saw its network.
	seenBack bool
	// sameNet: its allowlist names only the network we are on now.
	sameNet bool
	// deadNets: every network it could use carried no data for us lately
	// (under another profile); when the oldest of them was found dead.
	deadNets time.Time
	// absentStale: its only bar is a scan that did not see its network,
	// taken absentMaxAge or more ago. Absence is weak evidence that ages
	// fast (the outage that hid the network may be over); presence is not.
	absentStale bool
}

// absentMaxAge is how long a scan that did not see a profile's networks
// keeps a liveness failover or a threat exit from trying it. Cost and
// signal wait for a fresh scan (checkTarget), which costs them nothing.
const absentMaxAge = 2 * time.Minute

// barCodes are the reasons that make a candidate ineligible.
func isBar(c Code) bool {
	switch c {
	case CodeQuarantined, CodeOverCap, CodeNotInScan, CodePLMNAvoided, CodePLMNNotAllowed:
		return true
	}
	return false
}

// liveBars lists what keeps sc out of a liveness failover or a threat
// exit: its bars, less a scan's absence once that is absentMaxAge old.
func liveBars(sc Score, scanAge time.Duration) []Code {
	var out []Code
	for _, r := range sc.Reasons {
		if isBar(r.Code) && !(r.Code == CodeNotInScan && scanAge >= absentMaxAge) && !slices.Contains(out, r.Code) {
			out = append(out, r.Code)
		}
	}
	return out
}

// failsBack: c was left because its network was gone, and a scan since has
// seen it back.
func (c *candidate) failsBack() bool {
	return c != nil && c.left != nil && c.left.Cause == departGone && c.seenBack
}

// barred says why class may not enter c automatically at now ("" if it may).
func (c candidate) barred(class ruleClass, now time.Time) string {
	if !c.deadNets.IsZero() && class != classSafety {
		// The same as leaving it for a dead data path, learnt on another
		// profile: its networks are what died.
		age := now.Sub(c.deadNets)
		if !(class == classLiveness && age >= deadCoreLiveRetry) {
			return "its networks carried no data " + age.Round(time.Second).String() + " ago"
		}
	}
	if c.left == nil {
		return ""
	}
	age := now.Sub(c.left.At)
	switch c.left.Cause {
	case departThreat:
		return "left on a threat " + age.Round(time.Second).String() + " ago"
	case departDeadCore:
		// Leaving an attack for a profile whose data path died is still
		// leaving the attack.
		if class == classSafety || (class == classLiveness && age >= deadCoreLiveRetry) {
			return ""
		}
		return "left for a dead data path " + age.Round(time.Second).String() + " ago"
	}
	return ""
}

// situation is everything the steady-state rules look at.
type situation struct {
	now        time.Time
	active     string
	autonomous bool
	registered bool

	// Safety.
	activeThreat threat.Severity
	critical     bool    // Critical threat on the active profile
	leaveNow     *Reason // the threat response asks to leave what we are on
	offList      *Reason // confirmed: serving network outside the allowlist

	// Liveness.
	unknown   bool    // the SIM carries no configured profile
	noService *Reason // not registered for no_service_trigger
	dataDead  *Reason // probes failed failures_to_down times

	// Operator.
	pin                  *Pin
	criticalOverridesPin bool

	// Cost and signal.
	overCap *Reason
	act     Score   // the active profile's score
	ref     float64 // its best total over softHold
	margin  float64

	// Memory.
	suspended  bool      // jamming is being observed
	dwellUntil time.Time // no soft switch before
	// failBackUntil: no soft return before, to a profile left because its
	// network was gone that a scan has seen back (a blip must not buy
	// min_dwell on a dearer profile).
	failBackUntil time.Time
	capRetry      time.Time // the automatic budget is spent until (zero: it fits)
	selectRetry   time.Time // the modem or card refused a selection: none before

	cands []candidate // ranked, best first, active excluded
}

// action is what a verdict asks the executor to do.
type action int

const (
	actNone    action = iota // nothing to say: run the fail-back scan
	actStay                  // stay, with reasons (restricted, exhausted, held by dwell or cap)
	actHold                  // stay because of a pin
	actSuspend               // stay because switching is suspended
	actSwitch                // switch to verdict.to
	actFail                  // no profile can serve: failed, retry later
	actIsolate               // stay, but carry no data (outside the allowlist)
)

// verdict is the decision step's output.
type verdict struct {
	act     action
	class   ruleClass
	trigger Trigger
	to      string
	reasons []Reason
	// best is the candidate the reasons speak of when not switching, and
	// whyBest why it was not taken.
	best    string
	whyBest []Reason
	// dropPin: the switch overrides an operator pin.
	dropPin bool
	// scan: check the target against a scan no older than this first
	// (zero: no check). Soft switches ask for scanMaxAge; a liveness or
	// safety switch to a profile whose only bar is an old scan's absence
	// asks for absentMaxAge: an old absence is no evidence either way.
	scan time.Duration
	// retryAt is when a failed verdict's retry is due (zero: back-off).
	retryAt time.Time
}

// decide is the steady-state rule. It is a pure function of sit.
func decide(sit situation) verdict {
	pinnedHere := sit.pin != nil && sit.pin.Profile == sit.active

	// 1. Safety.
	var safety []Reason
	trig := TriggerHard
	if sit.offList != nil {
		safety = append(safety, *sit.offList)
	}
	if sit.critical {
		safety = append(safety, reason(CodeThreatCritical, "Critical threat on the active profile"))
		trig = TriggerThreat
	} else if sit.leaveNow != nil {
		safety = append(safety, *sit.leaveNow)
		trig = TriggerThreat
	}
	if len(safety) > 0 && sit.active != "" {
		if sit.autonomous {
			v := verdict{act: actStay, class: classSafety, trigger: trig, reasons: append(safety,
				reason(CodeAutonomous, "the applet selects the IMSI; imsid only observes"))}
			if sit.offList != nil {
				v.act = actIsolate
			}
			return v
		}
		if pinnedHere && !sit.criticalOverridesPin && sit.offList == nil {
			return verdict{act: actHold, class: classSafety, trigger: trig,
				reasons: append(safety, reason(CodePinned, "pinned to %q (policy.critical_overrides_pin is off)", sit.active))}
		}
		c, why := pick(sit, classSafety)
		if c != "" {
			if sit.selectRetry.After(sit.now) {
				why = reason(CodeBusy, "the modem refused the last selection; next attempt at %s", sit.selectRetry.UTC().Format(time.RFC3339))
			} else {
				return verdict{act: actSwitch, class: classSafety, trigger: trig, to: c, reasons: safety, dropPin: sit.pin != nil, scan: sit.staleCheck(c)}
			}
		}
		v := verdict{act: actStay, class: classSafety, trigger: trig, best: c,
			reasons: append(safety, reason(CodeExhausted, "no threat-free eligible profile to switch to"))}
		if c != "" {
			v.whyBest = []Reason{why}
		} else if why.Code != "" {
			v.reasons = append(v.reasons, why)
		}
		if sit.offList != nil {
			// Isolate and keep searching: no data on a network the
			// operator did not allow.
			v.act = actIsolate
			return v
		}
		// Nowhere safer to go: stay (restricted) unless the profile has
		// also lost its service or data path, which liveness judges.
		if sit.noService == nil && sit.dataDead == nil && !sit.unknown {
			return v
		}
	}

	// 2. Liveness.
	var live []Reason
	if sit.unknown {
		live = append(live, reason(CodeUnknownProfile, "the SIM carries no configured profile"))
	}
	if sit.noService != nil {
		live = append(live, *sit.noService)
	}
	if sit.dataDead != nil {
		live = append(live, *sit.dataDead)
	}
	if len(live) > 0 {
		if sit.autonomous {
			return verdict{act: actStay, class: classLiveness, trigger: TriggerHard,
				reasons: append(live, reason(CodeAutonomous, "the applet selects the IMSI; imsid only observes"))}
		}
		if sit.suspended {
			return verdict{act: actSuspend, class: classLiveness, trigger: TriggerHard,
				reasons: append(live, reason(CodeSuspended, "jamming: changing profile would not help"))}
		}
		c, why := pick(sit, classLiveness)
		if c != "" && !sit.selectRetry.After(sit.now) {
			return verdict{act: actSwitch, class: classLiveness, trigger: TriggerHard, to: c, reasons: live, dropPin: sit.pin != nil, scan: sit.staleCheck(c)}
		}
		if c != "" {
			why = reason(CodeBusy, "the modem refused the last selection; next attempt at %s", sit.selectRetry.UTC().Format(time.RFC3339))
		}
		v := verdict{act: actStay, class: classLiveness, trigger: TriggerHard, best: c,
			reasons: append(live, reason(CodeExhausted, "no eligible profile to switch to"))}
		if why.Code != "" {
			v.reasons = append(v.reasons, why)
		}
		if !sit.registered || sit.dataDead != nil || sit.unknown {
			v.act = actFail
			v.retryAt = sit.selectRetry
		}
		return v
	}

	// 3 and 4. Cost and signal, under the operator's pin.
	var soft []Reason
	if sit.overCap != nil {
		soft = append(soft, *sit.overCap)
	}
	c, _ := pick(sit, classCost)
	var best *candidate
	for i := range sit.cands {
		if sit.cands[i].Profile == c {
			best = &sit.cands[i]
		}
	}
	if best != nil && sit.active != "" && best.Total >= sit.ref+sit.margin {
		soft = append(soft, reason(CodeBetterProfile, "%q scores %.1f against %.1f (margin %.1f)",
			best.Profile, best.Total, sit.act.Total, sit.margin))
	}
	if len(soft) == 0 {
		return verdict{}
	}
	v := verdict{act: actStay, class: classCost, trigger: TriggerSoft, reasons: soft, best: c}
	switch {
	case sit.autonomous:
		v.whyBest = []Reason{reason(CodeAutonomous, "the applet selects the IMSI; imsid only observes")}
	case pinnedHere:
		v.act, v.class = actHold, classOperator
		v.whyBest = []Reason{reason(CodePinned, "pinned to %q", sit.pin.Profile)}
	case sit.suspended:
		v.act = actSuspend
		v.whyBest = []Reason{reason(CodeSuspended, "jamming: changing profile would not help")}
	case c == "":
		v.whyBest = []Reason{reason(CodeExhausted, "no eligible profile to switch to")}
	case !sit.capRetry.IsZero() && sit.capRetry.After(sit.now):
		v.whyBest = []Reason{reason(CodeSwitchCap, "the automatic switch budget is used; next allowed at %s", sit.capRetry.UTC().Format(time.RFC3339))}
	case best.failsBack() && sit.failBackUntil.After(sit.now):
		v.whyBest = []Reason{reason(CodeDwell, "on %q until at least %s (fail-back dwell)", sit.active, sit.failBackUntil.UTC().Format(time.RFC3339))}
	case !best.failsBack() && sit.dwellUntil.After(sit.now):
		v.whyBest = []Reason{reason(CodeDwell, "on %q until at least %s (minimum dwell)", sit.active, sit.dwellUntil.UTC().Format(time.RFC3339))}
	case sit.selectRetry.After(sit.now):
		v.whyBest = []Reason{reason(CodeBusy, "the modem refused the last selection; next attempt at %s", sit.selectRetry.UTC().Format(time.RFC3339))}
	default:
		v.act, v.to, v.scan = actSwitch, c, scanMaxAge
	}
	if v.act == actStay || v.act == actHold || v.act == actSuspend {
		v.reasons = append(slices.Clone(soft), v.whyBest...)
	}
	return v
}

// staleCheck is the scan age a switch to c must check it against first:
// absentMaxAge when c is a candidate only because its scan absence is old.
func (sit situation) staleCheck(c string) time.Duration {
	for _, x := range sit.cands {
		if x.Profile == c && x.absentStale && !x.Eligible {
			return absentMaxAge
		}
	}
	return 0
}

// pick returns the best candidate class may enter automatically, or "" and
// why the best-ranked one may not. A liveness failover prefers profiles
// not left recently for a lost network or data path; only when none is
// left does it go back to one (the device is offline: trying costs
// nothing it has).
func pick(sit situation, class ruleClass) (string, Reason) {
	if class == classLiveness || class == classSafety {
		if c, why := pickPass(sit, class, true); c != "" {
			return c, why
		}
	}
	return pickPass(sit, class, false)
}

func pickPass(sit situation, class ruleClass, fresh bool) (string, Reason) {
	var why Reason
	for _, c := range sit.cands {
		if !c.Eligible && !(c.absentStale && class >= classLiveness) {
			continue
		}
		if fresh && c.left != nil && !c.seenBack && (c.left.Cause == departGone || c.left.Cause == departDeadCore || c.left.Cause == departRefused) {
			continue
		}
		if b := c.barred(class, sit.now); b != "" {
			if why.Code == "" {
				why = reason(CodeQuarantined, "%q: %s", c.Profile, b)
			}
			continue
		}
		// Leaving a threat never goes back onto the threatened network.
		if class == classSafety && c.sameNet {
			if why.Code == "" {
				why = reason(CodeThreatLevel, "%q: can only use the network under threat", c.Profile)
			}
			continue
		}
		// Leaving a threat goes only where the threat is lower.
		if class == classSafety && (sit.critical || sit.leaveNow != nil) && c.threat >= sit.activeThreat && c.threat > threat.SeverityNone {
			if why.Code == "" {
				why = reason(CodeThreatLevel, "%q: threat level %s, not lower", c.Profile, c.threat)
			}
			continue
		}
		return c.Profile, Reason{}
	}
	return "", why
}
