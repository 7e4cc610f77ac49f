// Package wire defines the JSON types of imsid's HTTP API: the requests,
// responses, events and error bodies both the server (internal/api) and its
// clients (internal/apiclient, imsictl) speak. It holds no server and no
// metrics, so a client links only this. These DTOs are the public wire
// contract (docs/api.md); fields are only ever added, never renamed or
// retyped. Every key is always present in a response; a value the daemon
// does not know is null.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
	"unicode"
)

// ErrRefused is wrapped by every *RefusedError.
var ErrRefused = errors.New("api: refused")

// Refusal codes. A Backend may use others; these have fixed HTTP statuses.
const (
	CodeUnknownProfile = "unknown_profile"     // 422, Profiles lists the valid names
	CodeSwitchCap      = "switch_cap"          // 409, RetryAt when the window frees a slot
	CodeQuarantined    = "quarantined"         // 409, RetryAt when the quarantine ends
	CodePinned         = "pinned"              // 409
	CodeSuspended      = "switching_suspended" // 409
	CodeBusy           = "busy"                // 409
	CodeAutonomous     = "method_autonomous"   // 409
	CodeOverCap        = "over_cap"            // 409, RetryAt the next billing period
)

// RefusedError is a request the daemon will not carry out now. Code is
// machine-readable; Message is for people; RetryAt is when it will be
// allowed (zero when that does not depend on time).
type RefusedError struct {
	Code     string
	Message  string
	RetryAt  time.Time
	Profiles []string // the valid profile names, for CodeUnknownProfile
}

func (e *RefusedError) Error() string {
	s := "refused: " + e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	if !e.RetryAt.IsZero() {
		s += " (allowed from " + e.RetryAt.UTC().Format(time.RFC3339) + ")"
	}
	return s
}

// Unwrap makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Unwrap() error { return ErrRefused }

// DecisionQuery selects a page of the decision log.
type DecisionQuery struct {
	After uint64    // only Seq > After (the cursor)
	Since time.Time // only Time >= Since; zero: no bound
	Limit int       // at most this many; always > 0
}

// ---- DTOs: the public wire contract (docs/api.md). ----

// Status is GET /v1/status.
type Status struct {
	At    time.Time `json:"at"`
	State string    `json:"state"` // the daemon's lifecycle state, e.g. "connected"
	// Ready mirrors /readyz.
	Ready bool `json:"ready"`

	Modem        ModemInfo    `json:"modem"`
	SIM          SIMInfo      `json:"sim"`
	Registration Registration `json:"registration"`
	Signal       Signal       `json:"signal"`

	ActiveProfile   *string `json:"active_profile"`
	PreviousProfile *string `json:"previous_profile"`
	Pin             *Pin    `json:"pin"`
	// Suspended: automatic switching is suspended (jamming).
	Suspended bool `json:"suspended"`

	Link   Link   `json:"link"`
	Threat Threat `json:"threat"`
	// Usage is per profile for the current billing period.
	Usage []Usage `json:"usage"`

	LastSwitch   *LastSwitch  `json:"last_switch"`
	SwitchBudget SwitchBudget `json:"switch_budget"`
	// Quarantines are every quarantine in force (profile, PLMN, cell), each
	// with its expiry.
	Quarantines []QuarantineEntry `json:"quarantines"`
	// Recovery is the modem recovery ladder: the rung in progress and the
	// rungs taken since the daemon started.
	Recovery Recovery `json:"recovery"`
	// Dropped counts what the daemon could not write to its state file
	// since it started (a full or failing disk).
	Dropped Dropped `json:"dropped"`
}

// Dropped counts records lost to failed writes since the daemon started.
type Dropped struct {
	Decisions      uint64 `json:"decisions"`
	UpstreamEvents uint64 `json:"upstream_events"`
}

// ModemInfo identifies the modem.
type ModemInfo struct {
	Manufacturer *string `json:"manufacturer"`
	Model        *string `json:"model"`
	Revision     *string `json:"revision"`
	Dialect      *string `json:"dialect"`
	// Device is the AT port path.
	Device *string `json:"device"`
	// Responding is false while the AT channel is failing or the port is lost.
	Responding bool `json:"responding"`
	// LastError is the last failure to open the port or to start the AT
	// session, while there is no session; NextRetry when the daemon tries
	// again.
	LastError   *string    `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
	NextRetry   *time.Time `json:"next_retry"`
}

// SIMInfo is the SIM as the modem reports it. IMSI and ICCID are masked.
type SIMInfo struct {
	State  *string `json:"state"`  // "ready", "not_inserted", "pin_required", ...
	Method string  `json:"method"` // applet, autonomous, euicc, slot
	IMSI   *string `json:"imsi"`
	ICCID  *string `json:"iccid"`
}

// Registration is the network registration.
type Registration struct {
	Status   *string `json:"status"` // home, roaming, searching, denied, not_registered, unknown
	PLMN     *string `json:"plmn"`   // "26201"
	Operator *string `json:"operator"`
	Tech     *string `json:"tech"` // GSM, UMTS, LTE, NB-IoT, LTE-M, NR5G, NR5G-NSA
	TAC      *string `json:"tac"`
	CellID   *string `json:"cell_id"`
}

// Signal is the latest measurement; nil fields were not reported.
type Signal struct {
	RSSI *float64 `json:"rssi_dbm"`
	RSRP *float64 `json:"rsrp_dbm"`
	RSRQ *float64 `json:"rsrq_db"`
	SINR *float64 `json:"sinr_db"`
	// Bars is 0-5 for people, derived by the daemon.
	Bars *int `json:"bars"`
}

// Pin is an operator hold on one profile.
type Pin struct {
	Profile string    `json:"profile"`
	Since   time.Time `json:"since"`
	// Until is nil for a pin that lasts until unpinned.
	Until *time.Time `json:"until"`
}

// Link is the data path.
type Link struct {
	Up            bool    `json:"up"`
	IP            *string `json:"ip"`
	ProbeFailures int     `json:"probe_failures"`
	// ProbesSaved counts probe rounds not sent because the modem's byte
	// counters showed data arriving (policy.probes.traffic_aware).
	ProbesSaved uint64 `json:"probes_saved"`
	LastProbe   *Probe `json:"last_probe"`
	// Owner is who owns the data session (link.owner): imsid or external.
	Owner string `json:"owner,omitempty"`
	// Interface is the host's cellular interface (link.interface) and
	// Addresses its addresses as the kernel has them.
	Interface *string  `json:"interface,omitempty"`
	Addresses []string `json:"addresses,omitempty"`
	// ProbesBound: probes are bound to Interface (SO_BINDTODEVICE).
	ProbesBound bool `json:"probes_bound,omitempty"`
	// Waiting explains, while registered without a working data path,
	// what the daemon waits for.
	Waiting *string `json:"waiting,omitempty"`
	// LastHook is the last hook (or DHCP client) run; LastBringUp the
	// last attempt to bring the link back after a switch or reset.
	LastHook    *HookRun `json:"last_hook,omitempty"`
	LastBringUp *BringUp `json:"last_bring_up,omitempty"`
}

// HookRun is one run of a hook from link.hooks_dir (or the DHCP client).
type HookRun struct {
	Hook     string    `json:"hook"`
	Event    string    `json:"event"`
	At       time.Time `json:"at"`
	Result   string    `json:"result"` // ok, failed, timeout
	ExitCode int       `json:"exit_code"`
	Output   string    `json:"output,omitempty"`
}

// BringUp is an attempt to bring the data link back after a switch or a
// modem reset (data call and renewal, or the owner's reconnect hooks).
type BringUp struct {
	At      time.Time `json:"at"`
	Trigger string    `json:"trigger"`
	OK      bool      `json:"ok"`
	Detail  string    `json:"detail,omitempty"`
	Attempt int       `json:"attempt"`
}

// Probe is one data-path check.
type Probe struct {
	At        time.Time `json:"at"`
	OK        bool      `json:"ok"`
	Target    string    `json:"target"`
	LatencyMS *float64  `json:"latency_ms"`
	Error     *string   `json:"error"`
}

// Threat is the threat engine's view.
type Threat struct {
	Level  string        `json:"level"` // none, low, medium, high, critical
	Scores []ThreatScore `json:"scores"`
	// Top is the most severe active finding (GET /v1/threats lists all);
	// nil when none is active. Findings is set only in threat events: the
	// findings of the observation that raised the alert.
	Top      *FindingRef  `json:"top"`
	Findings []FindingRef `json:"findings,omitempty"`
}

// Recovery is the modem recovery ladder (requery, resync, CFUN, reset,
// reopen): Step is the rung in progress ("" when none), the counts are the
// rungs taken since the daemon started.
type Recovery struct {
	Step      string     `json:"step"`
	Runs      int        `json:"runs"`
	Requery   int        `json:"requery"`
	Resync    int        `json:"resync"`
	CFUN      int        `json:"cfun"`
	Reset     int        `json:"reset"`
	Reopen    int        `json:"reopen"`
	Recovered int        `json:"recovered"`
	LastAt    *time.Time `json:"last_at"`
}

// ThreatAck is the data of a threat_ack event: when a person acknowledged
// a tamper alarm (POST /v1/threat/ack) and the reason they gave.
type ThreatAck struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// ThreatScore is the windowed score of one scope.
type ThreatScore struct {
	Scope string  `json:"scope"` // "device", "profile:NAME", "plmn:26201", "cell:26201/5A29C0B"
	Score float64 `json:"score"`
	Level string  `json:"level"`
}

// Usage is one profile's data use in its current billing period.
type Usage struct {
	Profile     string    `json:"profile"`
	PeriodStart time.Time `json:"period_start"`
	PeriodEnd   time.Time `json:"period_end"`
	UsedBytes   int64     `json:"used_bytes"`
	// CapBytes is nil when the plan has no cap.
	CapBytes *int64 `json:"cap_bytes"`
	// Spend is what the period has cost so far; CapRunsOutAt the
	// forecast's date for the cap at this period's rate (null: not within
	// the period, or not forecast yet).
	Spend        string     `json:"spend"`
	CapRunsOutAt *time.Time `json:"cap_runs_out_at"`
}

// LastSwitch is the newest completed or attempted switch.
type LastSwitch struct {
	At          time.Time `json:"at"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	Trigger     string    `json:"trigger"` // hard, soft, manual, threat, external, modem
	Reasons     []Reason  `json:"reasons"`
	DecisionSeq uint64    `json:"decision_seq"`
}

// SwitchBudget is the switch cap's state.
type SwitchBudget struct {
	Used   int    `json:"used"`
	Max    int    `json:"max"`
	Window string `json:"window"` // Go duration, e.g. "1h0m0s"
	// RetryAt is when the next switch fits the cap; nil if it fits now.
	RetryAt *time.Time `json:"retry_at"`
	// DwellUntil is when soft triggers may switch again; nil if now.
	DwellUntil *time.Time `json:"dwell_until"`
}

// Reason is a machine-readable code with a message for people.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ProfileView is one entry of GET /v1/profiles.
type ProfileView struct {
	Name     string `json:"name"`
	Active   bool   `json:"active"`
	Pinned   bool   `json:"pinned"`
	Priority int    `json:"priority"`
	// Eligible is false when a hard rule (quarantine, cap, allowlist) stops
	// automatic selection; Reasons say which.
	Eligible   bool        `json:"eligible"`
	Score      Score       `json:"score"`
	Reasons    []Reason    `json:"reasons"`
	Quarantine *Quarantine `json:"quarantine"`
	Cap        Cap         `json:"cap"`
	// Signal is the profile's smoothed raw signal where it was last
	// measured (its own network); nil fields were never measured.
	Signal ProfileSignal `json:"signal"`
	// Tariff is the configured cost; Spend what this billing period has
	// cost so far (fee + per-MB + roaming), as "12.34 EUR".
	Tariff Tariff `json:"tariff"`
	Spend  string `json:"spend"`
	// Forecast extrapolates this period's burn rate; nil until the period
	// has been observed long enough.
	Forecast *Forecast `json:"forecast"`
}

// ProfileSignal is a profile's smoothed signal and when it was measured.
type ProfileSignal struct {
	RSRP *float64   `json:"rsrp_dbm"`
	SINR *float64   `json:"sinr_db"`
	RSSI *float64   `json:"rssi_dbm"`
	At   *time.Time `json:"at"`
}

// Tariff is a profile's configured cost ("" when not set).
type Tariff struct {
	PerMB        string `json:"per_mb"`
	PerMonth     string `json:"per_month"`
	RoamingPerMB string `json:"roaming_per_mb"`
}

// Forecast is the period's projection at the burn rate so far.
type Forecast struct {
	BytesPerDay uint64 `json:"bytes_per_day"`
	// TotalBytes and Cost are projected to the end of the period.
	TotalBytes uint64 `json:"total_bytes"`
	Cost       string `json:"cost"`
	// CapRunsOutAt is when the cap runs out at this rate, if within the
	// period; null otherwise.
	CapRunsOutAt *time.Time `json:"cap_runs_out_at"`
}

// Score parts are 0 (worst) to 100 (best); Total is their weighted sum.
type Score struct {
	Signal float64 `json:"signal"`
	Cost   float64 `json:"cost"`
	Threat float64 `json:"threat"`
	Health float64 `json:"health"`
	Total  float64 `json:"total"`
}

// Quarantine keeps a profile out of selection until Until.
type Quarantine struct {
	Until  time.Time `json:"until"`
	Since  time.Time `json:"since"`
	Count  int       `json:"count"`
	Reason Reason    `json:"reason"`
}

// Cap is a profile's data cap in the current billing period.
type Cap struct {
	UsedBytes int64  `json:"used_bytes"`
	CapBytes  *int64 `json:"cap_bytes"` // nil: no cap
	Reached   bool   `json:"reached"`
	// ResetsAt is the start of the next billing period.
	ResetsAt *time.Time `json:"resets_at"`
}

// Decision is one entry of the decision log.
type Decision struct {
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"` // stay, switch, rollback, hold, suspend, recover, adopt, verified, fail
	From    *string   `json:"from"`
	To      *string   `json:"to"`
	Trigger *string   `json:"trigger"`
	Reasons []Reason  `json:"reasons"`
	Inputs  Inputs    `json:"inputs"`
	Scores  []Ranked  `json:"scores"`
	WhyNot  []WhyNot  `json:"why_not"`
	// Finding is, for a decision taken because of a threat, the finding it
	// acted on.
	Finding *FindingRef `json:"finding,omitempty"`
}

// Inputs are the observations a decision was based on.
type Inputs struct {
	State         string   `json:"state"`
	Registered    bool     `json:"registered"`
	PLMN          *string  `json:"plmn"`
	Tech          *string  `json:"tech"`
	RSRP          *float64 `json:"rsrp_dbm"`
	SINR          *float64 `json:"sinr_db"`
	ProbeFailures int      `json:"probe_failures"`
	ThreatLevel   *string  `json:"threat_level"`
	Switches      int      `json:"switches_in_window"`
}

// Ranked is one profile's score within a decision.
type Ranked struct {
	Profile  string   `json:"profile"`
	Score    Score    `json:"score"`
	Eligible bool     `json:"eligible"`
	Reasons  []Reason `json:"reasons"`
}

// WhyNot says why a profile was not chosen.
type WhyNot struct {
	Profile string   `json:"profile"`
	Total   float64  `json:"total"`
	Reasons []Reason `json:"reasons"`
}

// DecisionPage is GET /v1/decisions.
type DecisionPage struct {
	Decisions []Decision `json:"decisions"`
	// NextCursor is passed back as ?cursor= for the next page; it is set even
	// on the last page so a client can poll for newer entries.
	NextCursor string `json:"next_cursor"`
	// More is true when another page is already available.
	More bool `json:"more"`
}

// Ack answers an accepted mutation. The daemon applies it on its next step;
// the outcome appears as a decision and an event.
type Ack struct {
	Op      string     `json:"op"` // switch, pin, unpin
	Profile *string    `json:"profile"`
	Reason  *string    `json:"reason"`
	Until   *time.Time `json:"until"`  // pin only
	Status  string     `json:"status"` // "accepted" (queued) or "done"
	Message string     `json:"message"`
	// RequestID names a queued request in the daemon's log. AfterSeq is
	// the newest decision when it was queued: its outcome is the first
	// decision with trigger "manual" after it (a stay with the refusal, a
	// hold, or a switch followed by verified, rollback or fail);
	// imsictl switch/pin --wait follows it.
	RequestID string `json:"request_id,omitempty"`
	AfterSeq  uint64 `json:"after_seq"`
}

// Ptr returns a pointer to v, for filling the nullable DTO fields.
func Ptr[T any](v T) *T { return &v }

// NonEmpty returns nil for "" and &s otherwise.
func NonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ErrorBody is every 4xx/5xx response: {"error": {...}}.
type ErrorBody struct {
	Error ErrorInfo `json:"error"`
}

// ErrorInfo says what went wrong, why, and when it will be allowed.
type ErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field names the request field or query parameter at fault.
	Field string `json:"field,omitempty"`
	// RetryAt is when the request will be allowed; RetryAfter is the same in
	// whole seconds from the response (also sent as the Retry-After header).
	RetryAt    *time.Time `json:"retry_at,omitempty"`
	RetryAfter *int64     `json:"retry_after_s,omitempty"`
	// Profiles lists the valid profile names (unknown_profile).
	Profiles []string `json:"profiles,omitempty"`
}

// Error codes the API itself produces (besides the Backend's refusals).
const (
	CodeBadRequest       = "bad_request"
	CodeMalformedJSON    = "malformed_json"
	CodeUnknownField     = "unknown_field"
	CodeInvalidField     = "invalid_field"
	CodeBodyTooLarge     = "body_too_large"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeUnauthorized     = "unauthorized"
	CodeWrongHost        = "wrong_host"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeNotReady         = "not_ready"
	CodeUnavailable      = "unavailable"
	CodeTimeout          = "backend_timeout"
	CodeTooManyStreams   = "too_many_streams"
	CodeInternal         = "internal"
)

// Event types. The daemon may publish others; clients must ignore types
// they do not know.
const (
	EventDecision  = "decision"   // data: Decision
	EventState     = "state"      // data: StateChange
	EventLink      = "link"       // data: Link
	EventThreat    = "threat"     // data: Threat
	EventPin       = "pin"        // data: Pin, or null when unpinned
	EventThreatAck = "threat_ack" // data: ThreatAck
	// EventGap says events were missed (the resume point is older than the
	// replay buffer, or from another daemon run); data: Gap. It has no ID.
	EventGap = "gap"
)

// Event is one item of GET /v1/events.
type Event struct {
	ID   uint64          `json:"id"`
	Time time.Time       `json:"time"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// StateChange is the data of a "state" event.
type StateChange struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Event string `json:"event"`
}

// Gap is the data of a "gap" event.
type Gap struct {
	After   uint64 `json:"after"`  // the resume point asked for
	Oldest  uint64 `json:"oldest"` // the oldest event still held (0: none)
	Message string `json:"message"`
}

// ThreatList is GET /v1/threats: the findings the daemon holds (active
// first, newest first within each) and every quarantine in force.
type ThreatList struct {
	At    time.Time `json:"at"`
	Level string    `json:"level"`
	// Findings are bounded by count and age (docs/api.md).
	Findings    []Finding         `json:"findings"`
	Quarantines []QuarantineEntry `json:"quarantines"`
}

// Finding is one detector's finding on one scope, folded over its repeats.
type Finding struct {
	Rule     string `json:"rule"`     // "D1a"
	Detector string `json:"detector"` // "D1"
	Reason   string `json:"reason"`   // machine-readable, e.g. "2g_under_lte_policy"
	Severity string `json:"severity"` // low, medium, high, critical
	// Scope is "device", "profile:NAME", "plmn:26201" or "cell:26201/5A29C0B"
	// (cell identity in upper-case hex, as in status).
	Scope string `json:"scope"`
	// Sentence says what was seen: the detector's finding, the RAT, the
	// network, TAC and cell, the signal and how often.
	Sentence  string    `json:"sentence"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int       `json:"count"`
	// Active: the finding still weighs on the threat score (seen within
	// the scoring window); otherwise it is recent history.
	Active bool `json:"active"`
	// Latched: a tamper-class Critical that holds until acknowledged
	// (POST /v1/threat/ack).
	Latched bool `json:"latched"`
	// Response is what the finding asked of the switcher ("leave_now",
	// "forbid_2g", ...); empty for findings that act only through the score.
	Response []string `json:"response"`
	// DecisionSeq is the decision the finding caused, when one did.
	DecisionSeq *uint64 `json:"decision_seq"`
}

// FindingRef is the finding a threat decision acted on.
type FindingRef struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Scope    string `json:"scope"`
	Sentence string `json:"sentence"`
}

// QuarantineEntry is one quarantine in the switcher's book, of any kind.
type QuarantineEntry struct {
	Kind  string    `json:"kind"` // profile, plmn, cell
	Key   string    `json:"key"`  // "telekom-de", "26201", "26201/5A29C0B"
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Count is the consecutive quarantines of the key (the TTL doubles).
	Count  int    `json:"count"`
	Reason Reason `json:"reason"`
}

// ATReply is POST /v1/at's answer: the modem's information lines (IMSI and
// ICCID masked) and whether it answered OK.
type ATReply struct {
	Command string   `json:"command"`
	OK      bool     `json:"ok"`
	Lines   []string `json:"lines"`
	// Error is the modem's error answer or why the command was not sent.
	Error *string `json:"error"`
}

// ProfileList is GET /v1/profiles.
type ProfileList struct {
	// At is the daemon's clock when the list was made: relative times
	// ("quarantined until 12:45, in 45m") count from it, as in Status.
	At       time.Time     `json:"at"`
	Profiles []ProfileView `json:"profiles"`
}

// Health is the body of /healthz and a passing /readyz.
type Health struct {
	Status string `json:"status"`
}

// Decision paging bounds.
const (
	DefaultDecisionLimit = 50
	MaxDecisionLimit     = 500
)

// UnsafeRune reports whether r must not reach a terminal or a log as is: C0
// and C1 controls (escape sequences start with one), bidirectional controls
// such as U+202E RIGHT-TO-LEFT OVERRIDE, line and paragraph separators, and
// the other invisible format characters but the zero-width (non-)joiners
// that emoji and some scripts need.
func UnsafeRune(r rune) bool {
	switch {
	case unicode.IsControl(r), unicode.Is(unicode.Bidi_Control, r):
		return true
	case r == '\u200c' || r == '\u200d':
		return false
	}
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// TryOutSocket is where `imsid --simulate` listens when it runs as a try-out
// (no --config, no --state-dir), and where imsictl looks when the system
// socket is absent: a newcomer's two terminals find each other without
// flags. One per user, in the temporary directory.
func TryOutSocket() string {
	return filepath.Join(os.TempDir(), fmt.Sprintf("imsid-sim-%d.sock", os.Getuid()))
}
