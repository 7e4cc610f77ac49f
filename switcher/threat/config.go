package threat

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/imsid/imsid/modem"
)

// Config is the whole detector configuration. Start from DefaultConfig; the
// profiles package maps its YAML onto this plain struct. Values marked
// [proposal] in docs/threats.md are defaults to be tuned on field data.
type Config struct {
	Site     Site
	Profiles map[string]ProfilePolicy
	// FleetCells are cells known from a fleet or upstream database; they
	// count as known (D5) even before the site baseline has seen them.
	FleetCells []CellKey

	Baseline    BaselineConfig
	Scoring     ScoringConfig
	Suppression SuppressionConfig

	D1  D1Config
	D2  D2Config
	D3  D3Config
	D4  D4Config
	D5  D5Config
	D6  D6Config
	D7  D7Config
	D8  D8Config
	D9  D9Config
	D10 D10Config
}

// Site holds the facts about where the gateway is.
type Site struct {
	// Stationary is true for a fixed installation. When false the
	// baseline-driven detectors (D4–D7, the baseline parts of D8, D2b/D2d,
	// D9a) are off, as AIMSICD does while moving.
	Stationary bool
	// CountryMCC is the site's country ("310"); "" disables D2b.
	CountryMCC string
	// BorderMCCs are neighbouring countries' MCCs seen legitimately at a
	// border site; they score 1.0 instead of 3.5.
	BorderMCCs []string
	// Legacy2GLive / Legacy3GLive: whether 2G/3G networks still run in the
	// country. They move D1 and D7b between High and Low.
	Legacy2GLive bool
	Legacy3GLive bool
	// ProvisionedICCIDs is the set of SIMs provisioned for this device; empty
	// disables D10a.
	ProvisionedICCIDs []modem.ICCID
	// AutonomousApplet is true when a SIM applet changes IMSI on its own,
	// which makes D10d informational.
	AutonomousApplet bool
}

// ProfilePolicy is what the threat side needs to know about one profile.
type ProfilePolicy struct {
	// AllowedPLMNs and AllowedMCCs form the allowlist; both empty means the
	// profile has no allowlist and D2a does not apply.
	AllowedPLMNs []modem.PLMN
	AllowedMCCs  []string
	// Allow2G / Allow3G: the profile's RAT policy permits legacy RATs. The
	// default (false) is an LTE/NR-only lock.
	Allow2G bool
	Allow3G bool
	// RoamingExpected marks a profile that is meant to roam (D2c off, D3
	// scores ×0.5).
	RoamingExpected bool
}

// outsideAllowlist reports whether the profile has an allowlist and plmn
// is not on it.
func (p ProfilePolicy) outsideAllowlist(plmn modem.PLMN) bool {
	if len(p.AllowedPLMNs) == 0 && len(p.AllowedMCCs) == 0 {
		return false
	}
	return !slices.Contains(p.AllowedPLMNs, plmn) && !slices.Contains(p.AllowedMCCs, plmn.MCC)
}

// BaselineConfig bounds and paces the per-site baseline.
type BaselineConfig struct {
	// WarmUp and WarmUpObservations: the baseline is trusted once both have
	// passed (7 days and 2,000 observations, whichever is later).
	WarmUp             time.Duration
	WarmUpObservations int
	// TrustDays: a cell is "known" only after being seen on this many
	// distinct UTC days (baseline-poisoning guard).
	TrustDays int
	// MaxCells bounds the baseline; the least recently seen untrusted cells
	// are evicted first.
	MaxCells int
	// MinSignalSamples: per-cell signal statistics are used only after this
	// many samples.
	MinSignalSamples int
	// HistogramCap halves a histogram's counts when its total exceeds it,
	// which turns learning after warm-up into a slow exponential forgetting.
	HistogramCap int
}

// ScoringConfig is the aggregation model.
type ScoringConfig struct {
	// Window is the aggregation window (15 min). A finding counts fully for
	// Hold, then linearly less until it drops out at Window.
	Window time.Duration
	Hold   time.Duration
	// Watch, Suspect and Threat are the score thresholds for the Low,
	// Medium and High levels.
	Watch, Suspect, Threat float64
	// EpisodeQuiet: an episode (and its tightened response) ends after the
	// overall level has been None and no finding has fired for this long.
	// Episodes with a tamper-class Critical (Finding.Latches) end only on
	// Acknowledge.
	EpisodeQuiet time.Duration
	// AlertEvery rate-limits alerts per (rule, scope).
	AlertEvery time.Duration
	// Quarantine TTLs suggested to the switcher (it doubles on repeats).
	CellQuarantine    time.Duration
	PLMNQuarantine    time.Duration
	ProfileQuarantine time.Duration
}

// SuppressionConfig is the window around imsid's own transitions.
type SuppressionConfig struct {
	// After our own switch, CFUN cycle or RAT change ends, D3, D9 and D10d
	// are suppressed and baseline learning pauses for this long.
	After time.Duration
	// MaxSwitch bounds a switch whose "finished" event never arrived.
	MaxSwitch time.Duration
}

// D1Config: RAT downgrade (a, d, u) and RAT-lock integrity (b).
type D1Config struct {
	Enabled bool
	// GoodLTERSRP / GoodLTESINR define the "good LTE" that makes a sudden
	// drop to a legacy RAT suspicious; GoodPolls of them, the last no more
	// than Within before the legacy RAT appears.
	GoodLTERSRP float64
	GoodLTESINR float64
	GoodPolls   int
	Within      time.Duration
	// LockRecurWithin: a second RAT-lock reversion within this raises an alert.
	LockRecurWithin time.Duration
}

// D2Config: PLMN / MCC allowlist.
type D2Config struct {
	Enabled bool
	// MaxChangesPerHour: more PLMN changes than this in an hour is D2d.
	MaxChangesPerHour int
	// ConfirmPolls is how many consecutive observations must show the same
	// off-list network, each with its sources agreeing, before D2a or D2b
	// acts (High, leave now, PLMN quarantine). Earlier sightings score as
	// low evidence (0.5). 0 or 1 acts on the first consistent sighting.
	ConfirmPolls int
	// ConfirmWithin: a sighting further than this from the previous one
	// starts the count again. It must exceed the poll interval; 0 means no
	// limit.
	ConfirmWithin time.Duration
}

// D3Config: registration reject causes.
type D3Config struct {
	Enabled bool
	// CaptureWindow: a reject within this of the serving cell changing to
	// an unknown one scores ×UnknownCellFactor.
	CaptureWindow     time.Duration
	UnknownCellFactor float64
	RoamingFactor     float64
	// StormCount rejects within StormWindow is a reject storm (D3s).
	StormCount  int
	StormWindow time.Duration
	// MaxRecoveriesPerDay caps the suggested CFUN recovery for #3/#6/#8.
	MaxRecoveriesPerDay int
	// RecoveryBackoff is how long a sticky reject (#3/#6/#8 with an active
	// subscription) must persist before the CFUN recovery is suggested,
	// and how long after one recovery the next may be: a network that
	// rejects a valid SIM this way is usually busy fixing something, and
	// an immediate re-attach only adds to the signalling storm.
	RecoveryBackoff time.Duration
}

// D4Config: cell identity inconsistency.
type D4Config struct {
	Enabled bool
	// Polls: consecutive serving polls a new tuple must persist for.
	Polls int
	// AcceptAfter: a new tuple persisting this long with no other detector
	// firing is accepted into the baseline.
	AcceptAfter time.Duration
	// RadioReuseWindow: the same (EARFCN, PCI) with a different CI within
	// this is D4c.
	RadioReuseWindow time.Duration
}

// D5Config: unknown or transient cell.
type D5Config struct {
	Enabled bool
	// TransientMax: an unknown cell seen for less than this …
	TransientMax time.Duration
	// TransientGone: … and not again for this long is a transient (D5b).
	TransientGone time.Duration
}

// D6Config: anomalous signal.
type D6Config struct {
	Enabled bool
	// KnownCellExcess over the cell's median RSRP for Polls polls is D6a.
	KnownCellExcess float64
	Polls           int
	// UnknownOverP90 over the site's serving-RSRP p90, or above
	// UnknownAbsolute, is D6b.
	UnknownOverP90  float64
	UnknownAbsolute float64
	// JumpDB within JumpWithin on the same cell is D6j.
	JumpDB     float64
	JumpWithin time.Duration
}

// D7Config: neighbour-list anomalies.
type D7Config struct {
	Enabled bool
	// EmptyPolls empty lists in a row with serving RSRP ≥ EmptyMinRSRP,
	// where the site's p10 neighbour count is ≥ EmptyMinP10, is D7a.
	EmptyPolls   int
	EmptyMinRSRP float64
	EmptyMinP10  int
	// MissingPolls lists in a row that hold none of the cell's regular
	// neighbours is D7m.
	MissingPolls int
}

// D8Config: jamming.
type D8Config struct {
	Enabled bool
	// URCFor: a vendor JAMMED report lasting this long is D8a.
	URCFor time.Duration
	// Interference signature (D8b): RSRP ≥ MinRSRP and (SINR ≤ MaxSINR or
	// RSRQ ≤ MaxRSRQ) and SINR ≤ baseline median − SINRDrop, for Polls polls.
	MinRSRP  float64
	MaxSINR  float64
	MaxRSRQ  float64
	SINRDrop float64
	Polls    int
	// BlackoutWindow: registration lost on every profile within it (D8c).
	BlackoutWindow time.Duration
	// NoiseRise of RSSI−RSRP over the site median (D8d).
	NoiseRise float64
}

// D9Config: attach/detach churn and capture-and-release.
type D9Config struct {
	Enabled bool
	// Churn: ShortCount losses within ShortWindow or LongCount within
	// LongWindow, while RSRP ≥ MinRSRP.
	ShortCount  int
	ShortWindow time.Duration
	LongCount   int
	LongWindow  time.Duration
	MinRSRP     float64
	// CaptureWindow bounds a whole capture-and-release sequence.
	CaptureWindow time.Duration
	// RepeatWithin: a second capture within this scores 3.0.
	RepeatWithin time.Duration
}

// D10Config: SIM / identity tamper.
type D10Config struct {
	Enabled bool
}

// DefaultConfig returns the reference defaults: a stationary site, 2G and
// 3G not live, every detector on.
func DefaultConfig() Config {
	return Config{
		Site: Site{Stationary: true},
		Baseline: BaselineConfig{
			WarmUp: 7 * 24 * time.Hour, WarmUpObservations: 2000, TrustDays: 3,
			MaxCells: 256, MinSignalSamples: 20, HistogramCap: 4096,
		},
		Scoring: ScoringConfig{
			Window: 15 * time.Minute, Hold: 5 * time.Minute,
			Watch: 1.0, Suspect: 2.5, Threat: 4.0,
			EpisodeQuiet: 15 * time.Minute, AlertEvery: 5 * time.Minute,
			CellQuarantine: 60 * time.Minute, PLMNQuarantine: 30 * time.Minute, ProfileQuarantine: 30 * time.Minute,
		},
		Suppression: SuppressionConfig{After: 120 * time.Second, MaxSwitch: 5 * time.Minute},
		D1: D1Config{Enabled: true, GoodLTERSRP: -110, GoodLTESINR: 0, GoodPolls: 2, Within: 30 * time.Second,
			LockRecurWithin: 24 * time.Hour},
		D2: D2Config{Enabled: true, MaxChangesPerHour: 3, ConfirmPolls: 2, ConfirmWithin: 5 * time.Minute},
		D3: D3Config{Enabled: true, CaptureWindow: 120 * time.Second, UnknownCellFactor: 1.5, RoamingFactor: 0.5,
			StormCount: 5, StormWindow: 10 * time.Minute, MaxRecoveriesPerDay: 3, RecoveryBackoff: 10 * time.Minute},
		D4: D4Config{Enabled: true, Polls: 2, AcceptAfter: 3 * 24 * time.Hour, RadioReuseWindow: 10 * time.Minute},
		D5: D5Config{Enabled: true, TransientMax: 30 * time.Minute, TransientGone: 7 * 24 * time.Hour},
		D6: D6Config{Enabled: true, KnownCellExcess: 12, Polls: 2, UnknownOverP90: 10, UnknownAbsolute: -65,
			JumpDB: 20, JumpWithin: 2 * time.Minute},
		D7: D7Config{Enabled: true, EmptyPolls: 3, EmptyMinRSRP: -100, EmptyMinP10: 2, MissingPolls: 3},
		D8: D8Config{Enabled: true, URCFor: 10 * time.Second, MinRSRP: -105, MaxSINR: 0, MaxRSRQ: -15, SINRDrop: 10,
			Polls: 3, BlackoutWindow: 5 * time.Minute, NoiseRise: 10},
		D9: D9Config{Enabled: true, ShortCount: 3, ShortWindow: 10 * time.Minute, LongCount: 6, LongWindow: time.Hour,
			MinRSRP: -105, CaptureWindow: 120 * time.Second, RepeatWithin: time.Hour},
		D10: D10Config{Enabled: true},
	}
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("threat: bad config")

// Validate reports the first field that cannot work, by name.
func (c *Config) Validate() error {
	bad := func(field string, why string) error { return fmt.Errorf("%w: %s: %s", ErrConfig, field, why) }
	pos := func(field string, d time.Duration) error {
		if d <= 0 {
			return bad(field, "must be > 0")
		}
		return nil
	}
	for _, chk := range []struct {
		f string
		d time.Duration
	}{
		{"Scoring.Window", c.Scoring.Window}, {"Scoring.EpisodeQuiet", c.Scoring.EpisodeQuiet},
		{"Suppression.After", c.Suppression.After}, {"Suppression.MaxSwitch", c.Suppression.MaxSwitch},
		{"D3.CaptureWindow", c.D3.CaptureWindow}, {"D3.StormWindow", c.D3.StormWindow},
		{"D9.ShortWindow", c.D9.ShortWindow}, {"D9.LongWindow", c.D9.LongWindow}, {"D9.CaptureWindow", c.D9.CaptureWindow},
	} {
		if err := pos(chk.f, chk.d); err != nil {
			return err
		}
	}
	if c.Scoring.Hold < 0 || c.Scoring.Hold > c.Scoring.Window {
		return bad("Scoring.Hold", "must be within [0, Window]")
	}
	if !(c.Scoring.Watch > 0 && c.Scoring.Watch <= c.Scoring.Suspect && c.Scoring.Suspect <= c.Scoring.Threat) {
		return bad("Scoring.Watch/Suspect/Threat", "must be 0 < Watch ≤ Suspect ≤ Threat")
	}
	if c.D2.ConfirmPolls < 0 || c.D2.ConfirmPolls > 10 {
		return bad("D2.ConfirmPolls", "must be within [0, 10]")
	}
	if c.D3.RecoveryBackoff < 0 {
		return bad("D3.RecoveryBackoff", "must be ≥ 0")
	}
	if c.D2.ConfirmWithin < 0 {
		return bad("D2.ConfirmWithin", "must be ≥ 0")
	}
	if c.Baseline.MaxCells < 1 {
		return bad("Baseline.MaxCells", "must be ≥ 1")
	}
	if c.Baseline.HistogramCap < 16 {
		return bad("Baseline.HistogramCap", "must be ≥ 16")
	}
	if c.Site.CountryMCC != "" && (len(c.Site.CountryMCC) != 3 || !digits(c.Site.CountryMCC)) {
		return bad("Site.CountryMCC", fmt.Sprintf("%q is not a 3-digit MCC", c.Site.CountryMCC))
	}
	for name, p := range c.Profiles {
		for i, m := range p.AllowedMCCs {
			if len(m) != 3 || !digits(m) {
				return bad(fmt.Sprintf("Profiles[%q].AllowedMCCs[%d]", name, i), fmt.Sprintf("%q is not a 3-digit MCC", m))
			}
		}
	}
	return nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func (c *Config) profile(name string) ProfilePolicy { return c.Profiles[name] }
