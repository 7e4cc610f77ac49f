package threat

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/imsid/imsid/modem"
)

// Severity is both a finding's severity and an aggregated threat level.
// As a level: None < 1.0 (Watch threshold) ≤ Low < 2.5 (Suspect) ≤ Medium
// < 4.0 (Threat) ≤ High; Critical bypasses scoring (see Finding.Latches).
type Severity int

// Severity tiers, ordered.
const (
	SeverityNone Severity = iota // informational finding / no threat
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"none", "low", "medium", "high", "critical"}

func (s Severity) String() string {
	if s >= 0 && int(s) < len(severityNames) {
		return severityNames[s]
	}
	return "Severity(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText writes the lower-case name, so JSON logs stay readable.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a name written by MarshalText.
func (s *Severity) UnmarshalText(b []byte) error {
	for i, n := range severityNames {
		if n == string(b) {
			*s = Severity(i)
			return nil
		}
	}
	return fmt.Errorf("threat: unknown severity %q", b)
}

// DetectorID names a detector family, "D1" … "D10".
type DetectorID string

// Detector families.
const (
	D1  DetectorID = "D1"  // RAT downgrade and RAT-lock integrity
	D2  DetectorID = "D2"  // PLMN / MCC allowlist
	D3  DetectorID = "D3"  // registration reject causes
	D4  DetectorID = "D4"  // cell identity inconsistency
	D5  DetectorID = "D5"  // unknown or transient cell
	D6  DetectorID = "D6"  // anomalous signal
	D7  DetectorID = "D7"  // neighbour-list anomalies
	D8  DetectorID = "D8"  // jamming
	D9  DetectorID = "D9"  // attach/detach churn, capture-and-release
	D10 DetectorID = "D10" // SIM / ICCID / IMSI / IMEI change
)

// Reason is a stable machine-readable code for why a finding fired.
type Reason string

// Reason codes, one per rule.
const (
	Reason2GUnderLTEPolicy   Reason = "rat_2g_under_lte_policy"     // D1a
	ReasonSudden2GDowngrade  Reason = "sudden_2g_downgrade"         // D1d
	ReasonSudden3GDowngrade  Reason = "sudden_3g_downgrade"         // D1u
	ReasonRATLockChanged     Reason = "rat_lock_changed"            // D1b
	ReasonPLMNNotAllowed     Reason = "plmn_not_allowed"            // D2a
	ReasonForeignMCC         Reason = "foreign_mcc"                 // D2b
	ReasonUnexpectedRoaming  Reason = "unexpected_roaming"          // D2c
	ReasonPLMNChurn          Reason = "plmn_churn"                  // D2d
	ReasonRejectCause        Reason = "reject_cause"                // D3
	ReasonRejectStorm        Reason = "reject_storm"                // D3s
	ReasonCellNewTAC         Reason = "cell_new_tac"                // D4a
	ReasonCellNewRadio       Reason = "cell_new_radio"              // D4b
	ReasonRadioNewCell       Reason = "radio_new_cell"              // D4c
	ReasonCellNewPLMN        Reason = "cell_new_plmn"               // D4p
	ReasonUnknownCell        Reason = "unknown_cell"                // D5a
	ReasonTransientCell      Reason = "transient_cell"              // D5b
	ReasonStrongKnownCell    Reason = "strong_known_cell"           // D6a
	ReasonStrongUnknownCell  Reason = "strong_unknown_cell"         // D6b
	ReasonSignalJump         Reason = "signal_jump"                 // D6j
	ReasonNeighboursEmpty    Reason = "neighbours_empty"            // D7a
	ReasonLegacyPriority     Reason = "legacy_priority_inversion"   // D7b
	ReasonPriorityDrift      Reason = "priority_drift"              // D7c
	ReasonNeighboursMissing  Reason = "baseline_neighbours_missing" // D7m
	ReasonJammingReported    Reason = "jamming_reported"            // D8a
	ReasonInterference       Reason = "interference_signature"      // D8b
	ReasonBlackout           Reason = "blackout_all_profiles"       // D8c
	ReasonNoiseRise          Reason = "noise_rise"                  // D8d
	ReasonDetachChurn        Reason = "detach_churn"                // D9a
	ReasonCaptureRelease     Reason = "capture_and_release"         // D9b
	ReasonICCIDUnprovisioned Reason = "iccid_unprovisioned"         // D10a
	ReasonIMEIChanged        Reason = "imei_changed"                // D10b
	ReasonSIMHotPlug         Reason = "sim_hot_plug"                // D10c
	ReasonIdentityChanged    Reason = "identity_changed_not_by_us"  // D10d
	ReasonSIMLocked          Reason = "sim_pin_state_changed"       // D10e
)

// CellKey identifies a cell the way the baseline does: PLMN plus cell identity.
type CellKey struct {
	PLMN modem.PLMN
	CI   uint64
}

func (k CellKey) String() string { return k.PLMN.String() + "/" + strconv.FormatUint(k.CI, 16) }

// MarshalText writes "310260/12beef" (CI in hex, as modems print it).
func (k CellKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads the MarshalText form.
func (k *CellKey) UnmarshalText(b []byte) error {
	p, c, ok := strings.Cut(string(b), "/")
	if !ok {
		return fmt.Errorf("threat: cell key %q: want PLMN/CI", b)
	}
	plmn, err := modem.ParsePLMN(p)
	if err != nil {
		return fmt.Errorf("threat: cell key %q: %w", b, err)
	}
	ci, err := strconv.ParseUint(c, 16, 64)
	if err != nil {
		return fmt.Errorf("threat: cell key %q: bad CI: %w", b, err)
	}
	*k = CellKey{PLMN: plmn, CI: ci}
	return nil
}

// Radio is where a cell transmits: its channel number and physical cell id.
type Radio struct {
	EARFCN int `json:"earfcn"`
	PCI    int `json:"pci"`
}

func (r Radio) String() string { return fmt.Sprintf("%d/%d", r.EARFCN, r.PCI) }

// ScopeKind is the unit a finding is about, and what a quarantine applies to.
type ScopeKind int

// Scope kinds.
const (
	ScopeDevice ScopeKind = iota
	ScopeProfile
	ScopePLMN
	ScopeCell
)

var scopeNames = [...]string{"device", "profile", "plmn", "cell"}

func (k ScopeKind) String() string {
	if k >= 0 && int(k) < len(scopeNames) {
		return scopeNames[k]
	}
	return "ScopeKind(" + strconv.Itoa(int(k)) + ")"
}

// MarshalText writes the name.
func (k ScopeKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads the name.
func (k *ScopeKind) UnmarshalText(b []byte) error {
	for i, n := range scopeNames {
		if n == string(b) {
			*k = ScopeKind(i)
			return nil
		}
	}
	return fmt.Errorf("threat: unknown scope %q", b)
}

// Scope is what a finding or a quarantine refers to. Only the fields of its
// Kind are meaningful; Profile and PLMN are also filled for narrower scopes
// when known, so per-profile and per-PLMN levels can be computed.
type Scope struct {
	Kind    ScopeKind  `json:"kind"`
	Profile string     `json:"profile,omitempty"`
	PLMN    modem.PLMN `json:"plmn,omitzero"`
	Cell    CellKey    `json:"cell,omitzero"`
	Area    uint32     `json:"area,omitempty"` // TAC/LAC of the cell, when known
}

// Key is a stable string for the scope's own unit (not the wider fields).
func (s Scope) Key() string {
	switch s.Kind {
	case ScopeProfile:
		return "profile:" + s.Profile
	case ScopePLMN:
		return "plmn:" + s.PLMN.String()
	case ScopeCell:
		return "cell:" + s.Cell.String()
	}
	return "device"
}

// Evidence is one observed value that supports a finding. Values are
// strings so the record is stable across JSON round trips; identities are
// masked (IMSI/ICCID never appear in clear).
type Evidence struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Finding is one detector firing on one observation.
type Finding struct {
	At       time.Time  `json:"at"`
	Detector DetectorID `json:"detector"`
	Rule     string     `json:"rule"` // e.g. "D1a", "D9b"
	Version  int        `json:"version"`
	Reason   Reason     `json:"reason"`
	Severity Severity   `json:"severity"`
	Score    float64    `json:"score"`
	Scope    Scope      `json:"scope"`
	Message  string     `json:"message"`
	Evidence []Evidence `json:"evidence,omitempty"`
	// Response is the direct response of a High-or-above finding; lower
	// findings act only through the aggregate tiers.
	Response Response `json:"response,omitzero"`
}

// Latches reports whether f is a tamper-class Critical (D10a unprovisioned
// ICCID, D10b swapped modem): not subject to scoring, it holds the device
// at Critical and blocks transactions until Engine.Acknowledge. Any other
// Critical (D1a where 2G is switched off) is severe but not tamper: it is
// Critical while it holds at full weight and then decays like any finding,
// so the episode can end once the device has left and stayed clean.
func (f Finding) Latches() bool { return f.Severity == SeverityCritical && f.Detector == D10 }

func ev(name string, v any) Evidence {
	switch x := v.(type) {
	case float64:
		return Evidence{name, strconv.FormatFloat(x, 'f', -1, 64)}
	case modem.DBm:
		return Evidence{name, strconv.FormatFloat(float64(x), 'f', -1, 64)}
	case modem.DB:
		return Evidence{name, strconv.FormatFloat(float64(x), 'f', -1, 64)}
	case time.Duration:
		return Evidence{name, x.String()}
	case time.Time:
		return Evidence{name, x.UTC().Format(time.RFC3339)}
	case fmt.Stringer:
		return Evidence{name, x.String()}
	}
	b, _ := json.Marshal(v)
	return Evidence{name, strings.Trim(string(b), `"`)}
}

// severityForScore maps a score onto the finding tiers the reference uses
// for its scored rules: 0.5 Low, 1.0–2.x Medium, 3.0+ High.
func severityForScore(s float64) Severity {
	switch {
	case s >= 3:
		return SeverityHigh
	case s >= 1:
		return SeverityMedium
	case s > 0:
		return SeverityLow
	}
	return SeverityNone
}
