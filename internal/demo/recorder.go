package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/imsid/imsid/internal/api"
)

// recorder turns what the API says into a Timeline and progress lines.
//
// The daemon stamps everything it publishes (SSE events, decisions, its
// status) with the simulator's accelerated clock. That clock reads
// origin + (wall - origin) × speed, where origin is the wall time it was
// created at, so offsets into the day are scenario time - origin, and the
// demo's own wall-clock instants (polls, the operator's pin, the end of the
// day) are (wall - origin) × speed. The launch time of the daemon is a
// close lower bound of origin, and the first estimate. Every SSE event
// gives an upper bound: it was published, at its Time, no later than it
// was received, so the smallest bound wins. Decision stamps are no help:
// they carry the start of the tick that made them, a tick can take tens of
// milliseconds, and at 1800× that is minutes; an event's Time is when it
// was published, which follows its causes.
type recorder struct {
	speed  float64
	origin time.Time // best estimate so far
	// calibrated: origin comes from a stamp, not from the launch time
	// (which is earlier than the true origin, so no minimum would move it).
	calibrated bool
	out        io.Writer // progress lines; nil: none

	samples []rawSample
	events  []rawEvent

	active, state string
	profiles      []string
}

type rawSample struct {
	wall time.Time
	s    Sample
}

// rawEvent is stamped with the scenario time the daemon published it at
// (scen), or, for what the demo did itself, the wall time it did it (wall).
type rawEvent struct {
	scen time.Time
	wall time.Time
	e    Event
}

// newRecorder: launched is the wall time just before the daemon started,
// a first (early) estimate of the simulator's origin.
func newRecorder(speed float64, launched time.Time, out io.Writer) *recorder {
	if speed < 1 {
		speed = 1
	}
	return &recorder{speed: speed, origin: launched, out: out}
}

// calibrate takes one (scenario, wall) pair.
func (r *recorder) calibrate(scen, wall time.Time) {
	if scen.IsZero() || wall.IsZero() || r.speed <= 1 {
		return
	}
	// origin = (speed·wall − scen) / (speed − 1), relative to the current
	// estimate to keep the arithmetic small.
	ds := float64(scen.Sub(r.origin))
	dw := float64(wall.Sub(r.origin))
	d := (r.speed*dw - ds) / (r.speed - 1)
	if math.IsNaN(d) || math.IsInf(d, 0) || (r.calibrated && d >= 0) {
		return
	}
	r.origin = r.origin.Add(time.Duration(d))
	r.calibrated = true
}

func (r *recorder) offWall(w time.Time) time.Duration {
	return time.Duration(float64(w.Sub(r.origin)) * r.speed)
}

func (r *recorder) off(re rawEvent) time.Duration {
	if !re.scen.IsZero() {
		return re.scen.Sub(r.origin)
	}
	return r.offWall(re.wall)
}

// sample records one poll of /v1/status and /v1/profiles taken at wall.
func (r *recorder) sample(wall time.Time, st api.Status, ps []api.ProfileView) Sample {
	s := Sample{State: st.State, LinkUp: st.Link.Up, Signal: map[string]float64{}, RSRP: st.Signal.RSRP, Threat: st.Threat.Level}
	if st.ActiveProfile != nil {
		s.Active = *st.ActiveProfile
	}
	if len(ps) > 0 {
		r.profiles = r.profiles[:0]
		for _, p := range ps {
			r.profiles = append(r.profiles, p.Name)
			s.Signal[p.Name] = p.Score.Signal
		}
	}
	if s.Active != "" {
		r.active = s.Active
	}
	r.samples = append(r.samples, rawSample{wall: wall, s: s})
	s.At = r.offWall(wall)
	return s
}

// operator records something the demo did.
func (r *recorder) operator(wall time.Time, text string) {
	r.add(rawEvent{wall: wall, e: Event{Kind: KindOperator, Text: text}})
}

// event records one SSE event received at wall (zero: unknown).
func (r *recorder) event(wall time.Time, ev api.Event) error {
	r.calibrate(ev.Time, wall)
	at := rawEvent{scen: ev.Time, wall: wall} // when the daemon published it
	switch ev.Type {
	case api.EventDecision:
		var d api.Decision
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			return fmt.Errorf("decision event %d: %w", ev.ID, err)
		}
		return r.decision(at, d)
	case api.EventState:
		var sc api.StateChange
		if err := json.Unmarshal(ev.Data, &sc); err != nil {
			return fmt.Errorf("state event %d: %w", ev.ID, err)
		}
		r.state = sc.To
		r.add(at.with(Event{Kind: KindState, From: sc.From, To: sc.To, Text: sc.From + " -> " + sc.To + " (" + sc.Event + ")"}))
	case api.EventThreat:
		var th api.Threat
		if err := json.Unmarshal(ev.Data, &th); err != nil {
			return fmt.Errorf("threat event %d: %w", ev.ID, err)
		}
		r.add(at.with(Event{Kind: KindAlert, Level: th.Level, Text: alertText(th)}))
	case api.EventPin:
		var p *api.Pin
		if err := json.Unmarshal(ev.Data, &p); err != nil {
			return fmt.Errorf("pin event %d: %w", ev.ID, err)
		}
		if p == nil {
			r.add(at.with(Event{Kind: KindUnpin, Text: "pin released"}))
			return nil
		}
		text := "pinned " + p.Profile
		if p.Until != nil {
			text += " for " + shortDur(p.Until.Sub(p.Since))
		}
		r.add(at.with(Event{Kind: KindPin, To: p.Profile, Text: text}))
	case api.EventGap:
		var g api.Gap
		if err := json.Unmarshal(ev.Data, &g); err != nil {
			return fmt.Errorf("gap event: %w", err)
		}
		// Asking for everything from 1 always leaves a "gap" before the
		// daemon's first ID; only a gap after that is news.
		if g.After > 1 {
			r.add(at.with(Event{Kind: KindDecision, Text: "some events were missed: " + g.Message}))
		}
	}
	// link events repeat what the state events say.
	return nil
}

func (r *recorder) decision(at rawEvent, d api.Decision) error {
	e := Event{From: deref(d.From), To: deref(d.To), Trigger: deref(d.Trigger), State: d.Inputs.State}
	for _, x := range d.Reasons {
		e.Reasons = append(e.Reasons, x.Code)
	}
	e.Text = d.Kind + " " + reasonText(d.Reasons)
	if len(d.Reasons) > 0 {
		e.Message = d.Reasons[0].Message
	}
	switch d.Kind {
	case "stay":
		return nil
	case "switch":
		e.Kind = KindSwitch
		e.Text = fmt.Sprintf("switch %s -> %s, %s: %s", e.From, e.To, e.Trigger, reasonText(d.Reasons))
	case "rollback":
		e.Kind = KindRollback
	case "verified":
		e.Kind = KindVerified
	case "suspend":
		e.Kind = KindSuspend
	default:
		e.Kind = KindDecision
	}
	at.e = e
	r.add(at)
	return nil
}

// add keeps the event and prints its progress line.
func (r *recorder) add(re rawEvent) {
	if re.e.Profile == "" {
		re.e.Profile = r.active
		if re.e.Kind == KindVerified && re.e.To != "" {
			re.e.Profile = re.e.To
			r.active = re.e.To
		}
	}
	if re.e.State == "" || re.e.Kind == KindState {
		re.e.State = r.state
	}
	r.events = append(r.events, re)
	if r.out != nil {
		e := re.e
		e.At = r.off(re)
		fmt.Fprintln(r.out, ProgressLine(e))
	}
}

// timeline builds the Timeline with the final clock estimate.
func (r *recorder) timeline(title string, end time.Duration) Timeline {
	t := Timeline{Title: title, End: end, Profiles: append([]string(nil), r.profiles...), Samples: []Sample{}, Events: []Event{}}
	for _, s := range r.samples {
		x := s.s
		x.At = r.offWall(s.wall)
		if x.At < 0 || x.At > end {
			continue
		}
		t.Samples = append(t.Samples, x)
	}
	for _, re := range r.events {
		e := re.e
		e.At = min(max(r.off(re), 0), end)
		t.Events = append(t.Events, e)
	}
	sort.SliceStable(t.Events, func(i, j int) bool { return t.Events[i].At < t.Events[j].At })
	return t
}

// ProgressLine is one line of live progress: the store's time, the state,
// the active profile and what happened.
func ProgressLine(e Event) string {
	prof := e.Profile
	if prof == "" {
		prof = "-"
	}
	st := e.State
	if st == "" {
		st = "-"
	}
	what := e.Text
	switch e.Kind {
	case KindAlert:
		what = "ALERT " + e.Text
	case KindOperator:
		what = "OPERATOR " + e.Text
	}
	return fmt.Sprintf("%s  %-12s %-14s %s", ClockTime(e.At), st, prof, what)
}

// alertText names the worst scope: the highest level, then the highest
// score, then the most specific scope (the daemon lists the device first).
func alertText(th api.Threat) string {
	// The daemon names what it saw: the most severe finding of the alert.
	var f *api.FindingRef
	for i := range th.Findings {
		if f == nil || threatRank(th.Findings[i].Severity) > threatRank(f.Severity) {
			f = &th.Findings[i]
		}
	}
	if f != nil && f.Sentence != "" {
		return f.Sentence + "; device level " + th.Level
	}
	var worst *api.ThreatScore
	for i := range th.Scores {
		s := &th.Scores[i]
		if worst == nil || threatRank(s.Level) > threatRank(worst.Level) ||
			threatRank(s.Level) == threatRank(worst.Level) && s.Score >= worst.Score {
			worst = s
		}
	}
	if worst == nil || worst.Scope == "device" {
		return "device threat level " + th.Level
	}
	return fmt.Sprintf("%s on %s (score %.1f); device level %s", worst.Level, worst.Scope, worst.Score, th.Level)
}

func reasonText(rs []api.Reason) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		if r.Message != "" {
			parts = append(parts, r.Code+": "+r.Message)
		} else {
			parts = append(parts, r.Code)
		}
	}
	return strings.Join(parts, "; ")
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// with returns the stamp carrying e.
func (re rawEvent) with(e Event) rawEvent { re.e = e; return re }
