package threat

import (
	"math"
	"slices"
	"strings"
	"time"
)

// Contribution is one detector's part of a scope's score: its highest
// decayed finding score in the window.
type Contribution struct {
	Detector DetectorID `json:"detector"`
	Rule     string     `json:"rule"`
	Score    float64    `json:"score"`
}

// Assessment is the scored threat level of one scope.
type Assessment struct {
	// Scope is "overall", "profile:<name>" or "plmn:<mccmnc>".
	Scope         string         `json:"scope"`
	Score         float64        `json:"score"`
	Level         Severity       `json:"level"`
	Contributions []Contribution `json:"contributions,omitempty"`
}

// weight is how much a finding of the given age still counts: fully for
// Hold, then linearly less, nothing from Window on.
func (c *ScoringConfig) weight(age time.Duration) float64 {
	switch {
	case age < 0:
		return 1
	case age <= c.Hold:
		return 1
	case age >= c.Window:
		return 0
	}
	return float64(c.Window-age) / float64(c.Window-c.Hold)
}

func (c *ScoringConfig) level(score float64) Severity {
	switch {
	case score >= c.Threat:
		return SeverityHigh
	case score >= c.Suspect:
		return SeverityMedium
	case score >= c.Watch:
		return SeverityLow
	}
	return SeverityNone
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// assess scores the findings that pass keep: Σ over detectors of the
// highest decayed score. A tamper-class Critical in the window makes the
// level Critical whatever the sum; any other Critical does so only while it
// holds at full weight, then counts its decayed score like other findings.
func assess(name string, window []Finding, now time.Time, cfg *ScoringConfig, keep func(*Finding) bool) Assessment {
	best := map[DetectorID]Contribution{}
	critical := false
	for i := range window {
		f := &window[i]
		if !keep(f) {
			continue
		}
		w := cfg.weight(now.Sub(f.At))
		if w <= 0 {
			continue
		}
		if f.Severity == SeverityCritical && (f.Latches() || w >= 1) {
			critical = true
		}
		s := f.Score * w
		if b, ok := best[f.Detector]; !ok || s > b.Score {
			best[f.Detector] = Contribution{Detector: f.Detector, Rule: f.Rule, Score: s}
		}
	}
	a := Assessment{Scope: name}
	for _, c := range best {
		if c.Score <= 0 {
			continue
		}
		c.Score = round3(c.Score)
		a.Score += c.Score
		a.Contributions = append(a.Contributions, c)
	}
	a.Score = round3(a.Score)
	slices.SortFunc(a.Contributions, func(x, y Contribution) int { return strings.Compare(string(x.Detector), string(y.Detector)) })
	a.Level = cfg.level(a.Score)
	if critical {
		a.Level = SeverityCritical
	}
	return a
}

// tierResponse is the aggregate ladder: Suspect deprioritises and probes,
// Threat quarantines and leaves, Critical blocks transactions (only for a
// latched, tamper-class Critical; a scored Critical such as D1a's gets the
// Threat tier).
//
// The tier is set by the overall score, but it quarantines only the scopes
// that earned it: a cell, PLMN or profile named by a finding goes on the
// list only when its own score (see ownScore) reaches Suspect. Otherwise a
// clean fallback network would be quarantined, and left, because the
// device as a whole was under attack somewhere else. Lower scopes are not
// listed; their per-scope Assessment (Result.Profiles/PLMNs) is what ranks
// them lower.
func tierResponse(level Severity, latched bool, window []Finding, now time.Time, cfg *ScoringConfig) Response {
	r := Response{Level: level}
	switch level {
	case SeverityNone, SeverityLow:
		return r
	case SeverityMedium:
		r.Actions = ActAlert | ActProbe | ActDeprioritise
	case SeverityHigh:
		r.Actions = ActAlert | ActProbe | ActDeprioritise | ActLeaveNow
	case SeverityCritical:
		if latched {
			r.Actions = ActAlert | ActBlockTransactions | ActStoreAndForward
		} else {
			r.Actions = ActAlert | ActProbe | ActDeprioritise | ActLeaveNow
		}
	}
	earned := map[string]bool{}
	var qs []Quarantine
	for i := range window {
		f := &window[i]
		if f.Score <= 0 || cfg.weight(now.Sub(f.At)) <= 0 || f.Scope.Kind == ScopeDevice {
			continue
		}
		k := f.Scope.Key()
		ok, seen := earned[k]
		if !seen {
			ok = ownScore(f.Scope, window, now, cfg).Level >= SeverityMedium
			earned[k] = ok
		}
		if !ok {
			continue
		}
		if q, ok := quarantineFor(f.Scope, f.Reason, cfg); ok {
			qs = append(qs, q)
		}
	}
	return r.Merge(Response{Quarantine: qs})
}

// ownScore assesses a scope on the evidence about it alone: the findings
// whose scope is s or lies inside it (a PLMN holds its cells; a profile
// holds its PLMN- and cell-level findings). Device-level findings belong
// to no quarantinable scope.
func ownScore(s Scope, window []Finding, now time.Time, cfg *ScoringConfig) Assessment {
	return assess(s.Key(), window, now, cfg, func(f *Finding) bool { return within(f.Scope, s) })
}

// within reports whether scope g lies inside scope s.
func within(g, s Scope) bool {
	switch s.Kind {
	case ScopeCell:
		return g.Kind == ScopeCell && g.Cell == s.Cell
	case ScopePLMN:
		return (g.Kind == ScopePLMN || g.Kind == ScopeCell) && g.PLMN == s.PLMN
	case ScopeProfile:
		return g.Kind != ScopeDevice && g.Profile == s.Profile
	}
	return true
}

func quarantineFor(s Scope, why Reason, cfg *ScoringConfig) (Quarantine, bool) {
	var ttl time.Duration
	switch s.Kind {
	case ScopeCell:
		ttl = cfg.CellQuarantine
	case ScopePLMN:
		ttl = cfg.PLMNQuarantine
	case ScopeProfile:
		ttl = cfg.ProfileQuarantine
	default:
		return Quarantine{}, false
	}
	return Quarantine{Scope: s, TTL: ttl, Reason: why}, true
}
