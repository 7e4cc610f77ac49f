package switcher

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/imsid/imsid/profiles"
)

// CodePolicyRule is the reason code of a switch an injected Policy chose.
const CodePolicyRule Code = "policy_rule"

// Policy replaces the decision rule of the steady state (connected,
// degraded, registering, held): which profile to move to, if any. Everything
// else is the engine's and stays the same whatever the policy: reading the
// modem, bringing data up, probing, the switch procedure with verification
// and rollback, the recovery ladder, manual requests and autonomous adoption.
// The default (no WithPolicy) is imsid's own rule: scores, triggers, dwell,
// hysteresis, switch cap, threat responses.
//
// The seam exists so that other rules (the baselines of internal/bench: a
// router's consecutive-failure rule, mwan3's down/up counts) run on exactly
// the same engine and can be compared with ours.
type Policy interface {
	// Name names the policy in decisions and reports.
	Name() string
	// Decide is called once per steady-state tick, after the tick's
	// observation and probe. It must not block; it may keep state (it is
	// only ever called from Tick, never concurrently).
	Decide(in PolicyInput) PolicyChoice
}

// PolicyInput is what a Policy sees of one tick.
type PolicyInput struct {
	Now time.Time
	// Active is the profile the SIM carries; "" if its identity matches none.
	Active string
	// Profiles are the configured profile names, in priority order.
	Profiles []string
	// Registered is the tick's packet-domain registration.
	Registered bool
	// DataUp: the PDP context is up with an address.
	DataUp bool
	// Probed says a data probe ran in this tick; ProbeOK is its outcome.
	Probed, ProbeOK bool
	// ProbeFails counts consecutive probe failures.
	ProbeFails int
	// LastSwitch is when the last switch (ours or a verified one) began.
	LastSwitch time.Time
	// Scores are imsid's scores, best first; a baseline may ignore them.
	Scores []Score
}

// PolicyChoice is a Policy's answer: To == "" (or the active profile) stays.
type PolicyChoice struct {
	To      string
	Trigger Trigger
	Reasons []Reason
}

// WithPolicy replaces imsid's decision rule with p (see Policy). nil keeps
// the default.
func WithPolicy(p Policy) Option { return func(o *options) { o.policy = p } }

// policyStep is steadyStep's decision when a Policy is injected: the
// policy chooses; the engine switches, verifies and rolls back as usual.
func (s *Switcher) policyStep(ctx context.Context, now time.Time, ranked []Score) {
	probed := !s.lastProbeAt.IsZero() && s.lastProbeAt.Equal(now)
	in := PolicyInput{Now: now, Active: s.active, Registered: s.obs.registered, DataUp: s.pdpUp,
		Probed: probed, ProbeFails: s.probeFails, LastSwitch: s.lastSwitch, Scores: slices.Clone(ranked)}
	in.ProbeOK = probed && s.probeFails == 0
	ps := slices.Clone(s.cfg.Profiles)
	slices.SortStableFunc(ps, func(a, b profiles.Profile) int { return cmp.Compare(a.Priority, b.Priority) })
	for _, p := range ps {
		in.Profiles = append(in.Profiles, p.Name)
	}
	c := s.opt.policy.Decide(in)
	if c.To == "" || c.To == s.active || s.cfg.Profile(c.To) == nil {
		return
	}
	t := c.Trigger
	if t == TriggerNone {
		t = TriggerHard
	}
	why := append([]Reason{reason(CodePolicyRule, "policy %q", s.opt.policy.Name())}, c.Reasons...)
	s.beginSwitch(ctx, now, c.To, t, why, ranked)
}
