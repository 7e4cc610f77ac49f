package switcher

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable machine-readable reason code.
type Code string

// Reason codes. They appear in decisions, scores and refusals, and are the
// vocabulary of the API's "why" and "why not".
const (
	// Triggers.
	CodeNoService      Code = "no_service"       // not registered for NoServiceTrigger
	CodeDataPathDead   Code = "data_path_dead"   // FailuresToDown consecutive probe failures
	CodeNoDataSession  Code = "no_data_session"  // registered, but the data session does not come up
	CodeThreatCritical Code = "threat_critical"  // Critical threat on the active profile
	CodeThreatLeave    Code = "threat_leave_now" // threat response asks to leave the scope
	CodeBetterProfile  Code = "better_profile"   // a candidate beats the active one by the margin
	CodeCapReached     Code = "cap_reached"      // the active profile used its data cap
	CodeManual         Code = "manual"           // operator force
	CodePin            Code = "pin"              // operator pin moves to the pinned profile
	CodeExternalChange Code = "external_change"  // IMSI/ICCID changed without us (applet)
	CodeReconcile      Code = "reconcile"        // a journalled switch was unfinished at start
	CodeVerifyFailed   Code = "verify_failed"    // the target did not prove itself in time
	CodeRolledBack     Code = "rolled_back"      // back on the previous profile after a failed switch
	CodeRollbackFailed Code = "rollback_failed"  // neither target nor previous profile works
	CodeModemSick      Code = "modem_sick"       // AT channel failing: recovery, not blame
	CodeModemRecovered Code = "modem_recovered"
	CodeModemLost      Code = "modem_lost"

	// Reasons not to act / not to pick a profile.
	CodeActive         Code = "active"           // it is the active profile
	CodeDwell          Code = "min_dwell"        // too soon after the last switch
	CodeSwitchCap      Code = "switch_cap"       // the window's switch budget is spent
	CodeQuarantined    Code = "quarantined"      // profile quarantined until RetryAt
	CodePLMNNotAllowed Code = "plmn_not_allowed" // no allowed PLMN expected / serving
	CodePLMNAvoided    Code = "plmn_quarantined" // its PLMNs are quarantined by a threat response
	CodeOverCap        Code = "over_cap"         // data cap used up this period
	CodeNotBetter      Code = "not_better"       // does not beat the active one by the margin
	CodeSuspended      Code = "switching_suspended"
	CodePinned         Code = "pinned"
	CodeUnknownProfile Code = "unknown_profile"
	CodeAutonomous     Code = "method_autonomous" // the applet switches; we only observe
	CodeBusy           Code = "busy"              // a switch or recovery is in progress
	CodeSelectRefused  Code = "select_refused"    // the modem or card refused a selection before anything changed
	CodeSteered        Code = "network_steered"   // the modem is held to one allowed network
	CodeTargetRefused  Code = "target_refused"    // the target's network refused it: verification ends at once
	CodeModemNotReady  Code = "modem_not_ready"
	CodeExhausted      Code = "exhausted" // no eligible profile at all
	CodeBadRequest     Code = "bad_request"

	// Score contributions.
	CodeSignalMeasured Code = "signal_measured"
	CodeSignalHistory  Code = "signal_history"
	CodeSignalShared   Code = "signal_same_network"
	CodeSignalScan     Code = "signal_scan_available"
	CodeSignalUnknown  Code = "signal_unknown"
	CodeNotInScan      Code = "not_in_scan"
	CodeCostTariff     Code = "cost_tariff"
	CodeCostForecast   Code = "forecast_over_cap"
	CodeCostLowCap     Code = "cap_nearly_used"
	CodeThreatLevel    Code = "threat_level"
	CodeHealthFailures Code = "recent_failures"
	CodeProbeFailing   Code = "probe_failing"
	CodeBelowFloor     Code = "below_floor"
)

// Reason is one reason code with a human message.
type Reason struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (r Reason) String() string { return string(r.Code) + ": " + r.Message }

func reason(c Code, format string, a ...any) Reason {
	return Reason{Code: c, Message: fmt.Sprintf(format, a...)}
}

// Score is one profile's standing. Each part is 0 (worst) to 100 (best);
// Total is their weighted sum. Eligible is false when a hard rule (allowlist,
// quarantine, cap) forbids selecting it, whatever its total.
type Score struct {
	Profile  string   `json:"profile"`
	Signal   float64  `json:"signal"`
	Cost     float64  `json:"cost"`
	Threat   float64  `json:"threat"`
	Health   float64  `json:"health"`
	Total    float64  `json:"total"`
	Eligible bool     `json:"eligible"`
	Active   bool     `json:"active"`
	Reasons  []Reason `json:"reasons"`
}

// Weights of the score parts in the total.
const (
	WeightSignal = 0.40
	WeightCost   = 0.20
	WeightThreat = 0.25
	WeightHealth = 0.15
)

// Kind is what a decision did.
type Kind string

// Decision kinds.
const (
	KindStay     Kind = "stay"
	KindSwitch   Kind = "switch"
	KindRollback Kind = "rollback"
	KindHold     Kind = "hold"
	KindSuspend  Kind = "suspend"
	KindRecover  Kind = "recover"
	KindAdopt    Kind = "adopt"
	KindVerified Kind = "verified"
	KindFail     Kind = "fail"
)

// Trigger is what class of cause started a decision.
type Trigger string

// Triggers.
const (
	TriggerNone     Trigger = ""
	TriggerHard     Trigger = "hard"
	TriggerSoft     Trigger = "soft"
	TriggerManual   Trigger = "manual"
	TriggerThreat   Trigger = "threat"
	TriggerExternal Trigger = "external"
	TriggerModem    Trigger = "modem"
)

// Inputs are the observations a decision was made on.
type Inputs struct {
	State      State    `json:"state"`
	Registered bool     `json:"registered"`
	PLMN       string   `json:"plmn,omitempty"`
	Tech       string   `json:"tech,omitempty"`
	RSRP       *float64 `json:"rsrp,omitempty"`
	SINR       *float64 `json:"sinr,omitempty"`
	ProbeFails int      `json:"probe_failures"`
	ThreatLvl  string   `json:"threat_level,omitempty"`
	Switches   int      `json:"switches_in_window"`
}

// WhyNot says why a profile was not chosen.
type WhyNot struct {
	Profile string   `json:"profile"`
	Total   float64  `json:"total"`
	Reasons []Reason `json:"reasons"`
}

// Decision is one recorded judgement, with what it was based on.
type Decision struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Kind    Kind      `json:"kind"`
	From    string    `json:"from,omitempty"`
	To      string    `json:"to,omitempty"`
	Trigger Trigger   `json:"trigger,omitempty"`
	Reasons []Reason  `json:"reasons"`
	Inputs  Inputs    `json:"inputs"`
	Scores  []Score   `json:"scores,omitempty"`
	WhyNot  []WhyNot  `json:"why_not,omitempty"`
}

// Has reports whether the decision carries reason code c.
func (d Decision) Has(c Code) bool {
	for _, r := range d.Reasons {
		if r.Code == c {
			return true
		}
	}
	return false
}

// DecisionLog is a bounded ring of decisions, oldest dropped first.
type DecisionLog struct {
	max  int
	seq  uint64
	list []Decision
}

// NewDecisionLog keeps at most n decisions (n < 1 means 1).
func NewDecisionLog(n int) *DecisionLog { return &DecisionLog{max: max(n, 1)} }

// Add stamps d with the next sequence number and stores it.
func (l *DecisionLog) Add(d Decision) Decision {
	l.seq++
	d.Seq = l.seq
	if len(l.list) == l.max {
		copy(l.list, l.list[1:])
		l.list = l.list[:len(l.list)-1]
	}
	l.list = append(l.list, d)
	return d
}

// Since returns up to limit decisions with Seq > after, oldest first; limit
// <= 0 means all. Paging: pass the last Seq seen.
func (l *DecisionLog) Since(after uint64, limit int) []Decision {
	var out []Decision
	for _, d := range l.list {
		if d.Seq > after {
			out = append(out, d)
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return out
}

// Last returns the newest decision.
func (l *DecisionLog) Last() (Decision, bool) {
	if len(l.list) == 0 {
		return Decision{}, false
	}
	return l.list[len(l.list)-1], true
}

// Len is the number of decisions held.
func (l *DecisionLog) Len() int { return len(l.list) }

// Errors.
var (
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("switcher: closed")
	// ErrRefused is wrapped by every *RefusedError.
	ErrRefused = errors.New("switcher: refused")
)

// RefusedError says why a manual request was refused and, when it will be
// allowed, from when.
type RefusedError struct {
	Op      string // "force", "pin"
	Profile string
	Reason  Reason
	// RetryAt is when the request would be allowed; zero when it depends on
	// something other than time (unknown profile, autonomous method).
	RetryAt time.Time
}

func (e *RefusedError) Error() string {
	s := fmt.Sprintf("switcher: %s %q refused: %s", e.Op, e.Profile, e.Reason)
	if !e.RetryAt.IsZero() {
		s += " (allowed from " + e.RetryAt.UTC().Format(time.RFC3339) + ")"
	}
	return s
}

// Unwrap makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Unwrap() error { return ErrRefused }
