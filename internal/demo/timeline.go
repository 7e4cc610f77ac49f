package demo

import "time"

// Timeline is what the demo saw of one run, in offsets from the start of
// the day. The summary and the picture are both computed from it, so a
// recorded Timeline (JSON) replays into the same report.
type Timeline struct {
	Title string `json:"title"`
	// End is the length of the day that was run.
	End time.Duration `json:"end"`
	// Profiles in the daemon's order (priority), cheapest first here.
	Profiles []string `json:"profiles"`
	// Tariffs are the per-MB prices from the daemon's config.
	Tariffs map[string]Tariff `json:"tariffs,omitempty"`
	// Usage is each profile's data use at the end of the day, in bytes.
	Usage map[string]int64 `json:"usage,omitempty"`
	// Episodes name what the scenario did, for the picture.
	Episodes []Episode `json:"episodes,omitempty"`
	// Samples are periodic readings, oldest first.
	Samples []Sample `json:"samples"`
	// Events are the things that happened, oldest first.
	Events []Event `json:"events"`
}

// Tariff is a profile's price per megabyte.
type Tariff struct {
	PerMB    float64 `json:"per_mb"`
	Currency string  `json:"currency"`
}

// Sample is one reading of the daemon's status and profile scores.
type Sample struct {
	At     time.Duration `json:"at"`
	Active string        `json:"active"`
	State  string        `json:"state"`
	LinkUp bool          `json:"link_up"`
	// Signal is each profile's signal score, 0 (none) to 100 (excellent),
	// as the daemon rates it.
	Signal map[string]float64 `json:"signal"`
	// RSRP of the serving cell, dBm; nil when not reported.
	RSRP *float64 `json:"rsrp,omitempty"`
	// Threat is the device's threat level: none, low, medium, high, critical.
	Threat string `json:"threat"`
}

// Event kinds.
const (
	KindState    = "state"    // a lifecycle change; To is the new state
	KindSwitch   = "switch"   // a switch decided: From, To, Trigger, Reasons
	KindRollback = "rollback" // a switch undone
	KindVerified = "verified" // a switch verified: To is active
	KindSuspend  = "suspend"  // a switch that jamming held back
	KindDecision = "decision" // any other decision worth a line (fail, recover, hold...)
	KindAlert    = "alert"    // a threat alert: Level, Text
	KindPin      = "pin"      // a pin in force: To, Until in Text
	KindUnpin    = "unpin"    // the pin ended
	KindOperator = "operator" // something the demo did through imsictl
)

// Event is one thing that happened.
type Event struct {
	At      time.Duration `json:"at"`
	Kind    string        `json:"kind"`
	State   string        `json:"state,omitempty"`
	Profile string        `json:"profile,omitempty"` // the active profile then
	From    string        `json:"from,omitempty"`
	To      string        `json:"to,omitempty"`
	Trigger string        `json:"trigger,omitempty"`
	Reasons []string      `json:"reasons,omitempty"` // reason codes
	Level   string        `json:"level,omitempty"`   // alerts: the threat level
	Text    string        `json:"text,omitempty"`    // for people
	// Message is the first reason's message (switches and other decisions).
	Message string `json:"message,omitempty"`
}

// linkUpState: the states in which traffic flows (as the daemon's link
// events say).
func linkUpState(s string) bool { return s == "connected" || s == "degraded" || s == "held" }

// threatRank orders threat levels; unknown ones count as none.
func threatRank(level string) int {
	switch level {
	case "low":
		return 1
	case "medium":
		return 2
	case "high":
		return 3
	case "critical":
		return 4
	}
	return 0
}
