package daemon

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/threat"
)

// Bounds of the findings the daemon keeps for GET /v1/threats: a storm of
// findings on ever new cells must not grow memory on a small gateway.
const (
	maxFindings    = 64
	findingsKeep   = 24 * time.Hour
	maxFindingRefs = 256 // decision seq -> finding, for decisions still served from memory
)

// seen is what the observation that raised a finding showed: the RAT, the
// network, the area and cell, the signal. The engine's own message names
// the rule; this names the place.
type seen struct {
	tech     modem.Tech
	plmn     modem.PLMN
	operator string
	area     *uint32
	cell     *uint64
	rsrp     *float64
	rssi     *float64
}

func seenFrom(o threat.Observation) seen {
	var s seen
	if o.Serving != nil {
		s.tech, s.plmn, s.area, s.cell = o.Serving.Tech, o.Serving.PLMN, o.Serving.Area, o.Serving.CellID
		s.rsrp, s.rssi = dbm(o.Serving.Signal.RSRP), dbm(o.Serving.Signal.RSSI)
	}
	if o.Operator != nil {
		if !o.Operator.PLMN.IsZero() {
			s.plmn = o.Operator.PLMN
		}
		if o.Operator.Name != "" && o.Operator.Name != o.Operator.PLMN.String() {
			s.operator = o.Operator.Name
		}
		if s.tech == modem.TechUnknown && o.Operator.AcT != nil {
			s.tech = o.Operator.AcT.Tech()
		}
	}
	if r := o.Registration; r != nil {
		if s.tech == modem.TechUnknown && r.AcT != nil {
			s.tech = r.AcT.Tech()
		}
		if s.area == nil {
			s.area = r.Area
		}
		if s.cell == nil {
			s.cell = r.CellID
		}
	}
	if o.Signal != nil {
		if s.rsrp == nil {
			s.rsrp = dbm(o.Signal.RSRP)
		}
		if s.rssi == nil {
			s.rssi = dbm(o.Signal.RSSI)
		}
	}
	return s
}

func dbm(p *modem.DBm) *float64 {
	if p == nil {
		return nil
	}
	v := float64(*p)
	return &v
}

// techName names a RAT for people: the generation first, as operators say it.
func techName(t modem.Tech) string {
	switch t {
	case modem.TechGSM:
		return "2G (GSM)"
	case modem.TechUMTS:
		return "3G (UMTS)"
	case modem.TechLTE:
		return "4G (LTE)"
	case modem.TechLTEM:
		return "4G (LTE-M)"
	case modem.TechNBIoT:
		return "NB-IoT"
	case modem.TechNR5G:
		return "5G (NR)"
	case modem.TechNR5GNSA:
		return "5G (NR NSA)"
	}
	return ""
}

// hexID is the one format for cell identities, TACs and LACs: upper-case
// hex, as GET /v1/status shows them.
func hexID[T uint32 | uint64](v T) string { return strings.ToUpper(strconv.FormatUint(uint64(v), 16)) }

// scopeKey is a finding's scope as the API shows it: the cell identity in
// upper-case hex (the engine's key writes it in lower case).
func scopeKey(s threat.Scope) string {
	if s.Kind == threat.ScopeCell {
		return "cell:" + s.Cell.PLMN.String() + "/" + hexID(s.Cell.CI)
	}
	return s.Key()
}

// quarantineKey upper-cases the cell identity of a "cell:PLMN/ci" key.
func quarantineKey(k string) string {
	if rest, ok := strings.CutPrefix(k, "cell:"); ok {
		if plmn, ci, ok := strings.Cut(rest, "/"); ok {
			return "cell:" + plmn + "/" + strings.ToUpper(ci)
		}
	}
	return k
}

// sentence is the finding in one line for people: what the detector
// found, then where (RAT, network, TAC, cell, signal) and how often.
func sentence(f threat.Finding, at seen, count int, first time.Time) string {
	var where []string
	tech := at.tech
	if tech == modem.TechUnknown {
		for _, e := range f.Evidence {
			if e.Name == "tech" {
				tech = modem.Tech(e.Value)
			}
		}
	}
	if n := techName(tech); n != "" {
		where = append(where, "on "+n)
	}
	plmn := at.plmn
	if plmn.IsZero() {
		plmn = f.Scope.PLMN
	}
	if plmn.IsZero() {
		plmn = f.Scope.Cell.PLMN
	}
	if !plmn.IsZero() {
		n := "network " + plmn.String()
		if at.operator != "" {
			n += " (" + at.operator + ")"
		}
		where = append(where, n)
	}
	area := at.area
	if area == nil && f.Scope.Area != 0 {
		a := f.Scope.Area
		area = &a
	}
	if area != nil {
		where = append(where, "TAC "+hexID(*area))
	}
	cell := at.cell
	if cell == nil && f.Scope.Kind == threat.ScopeCell {
		c := f.Scope.Cell.CI
		cell = &c
	}
	if cell != nil {
		where = append(where, "cell "+hexID(*cell))
	}
	switch {
	case at.rsrp != nil:
		where = append(where, fmt.Sprintf("RSRP %.0f dBm", *at.rsrp))
	case at.rssi != nil:
		where = append(where, fmt.Sprintf("RSSI %.0f dBm", *at.rssi))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s", f.Rule, strings.ToLower(f.Severity.String()), f.Message)
	if len(where) > 0 {
		b.WriteString("; seen " + strings.Join(where, ", "))
	}
	if count > 1 {
		// How long, not since when: the sentence reads the same on any
		// clock (a store day's, a try-out daemon's, UTC), and the finding's
		// first_seen carries the instant.
		fmt.Fprintf(&b, "; %d times in %s", count, f.At.Sub(first).Round(time.Second))
	}
	return b.String()
}

// responseNames lists what a finding asked of the switcher.
func responseNames(r threat.Response) []string {
	out := []string{}
	if r.Actions != 0 {
		out = append(out, strings.Split(r.Actions.String(), "|")...)
	}
	for _, q := range r.Quarantine {
		out = append(out, "quarantine "+scopeKey(q.Scope)+" for "+roundDuration(q.TTL))
	}
	return out
}

// roundDuration is the one duration format for people: whole seconds
// under a minute, whole minutes under a day, else days and hours.
func roundDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + roundDuration(-d)
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < 24*time.Hour:
		s := strings.TrimSuffix(d.Round(time.Minute).String(), "0s") // "1h30m"
		if t, ok := strings.CutSuffix(s, "h0m"); ok {
			return t + "h"
		}
		return s
	}
	days := d / (24 * time.Hour)
	h := (d - days*24*time.Hour).Round(time.Hour) / time.Hour
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd%dh", days, h)
}

type findingEntry struct {
	f           threat.Finding // the latest
	at          seen
	first, last time.Time
	count       int
	decision    *uint64
	sentence    string
}

func (e *findingEntry) key() string { return e.f.Rule + "|" + e.f.Scope.Key() }

// findingBook keeps the engine's findings, folded by rule and scope,
// bounded by count and age. Safe for concurrent use.
type findingBook struct {
	mu      sync.Mutex
	window  time.Duration // a finding is active while seen within it
	entries map[string]*findingEntry
	refs    map[uint64]api.FindingRef
	refSeqs []uint64
}

func newFindingBook(window time.Duration) *findingBook {
	if window <= 0 {
		window = threat.DefaultConfig().Scoring.Window
	}
	return &findingBook{window: window, entries: map[string]*findingEntry{}, refs: map[uint64]api.FindingRef{}}
}

func (b *findingBook) setWindow(w time.Duration) {
	if b == nil {
		return
	}
	if w <= 0 {
		return
	}
	b.mu.Lock()
	b.window = w
	b.mu.Unlock()
}

// add records the findings of one observation.
func (b *findingBook) add(o threat.Observation, fs []threat.Finding) {
	if len(fs) == 0 {
		return
	}
	at := seenFrom(o)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, f := range fs {
		k := f.Rule + "|" + f.Scope.Key()
		e := b.entries[k]
		if e == nil {
			e = &findingEntry{first: f.At}
			b.entries[k] = e
		}
		e.f, e.at, e.last = f, at, f.At
		e.count++
		e.sentence = sentence(f, at, e.count, e.first)
	}
	b.prune(fs[len(fs)-1].At)
}

// prune drops entries older than findingsKeep, then the oldest beyond
// maxFindings (inactive ones go first, being older). Callers hold mu.
func (b *findingBook) prune(now time.Time) {
	for k, e := range b.entries {
		if now.Sub(e.last) > findingsKeep {
			delete(b.entries, k)
		}
	}
	for len(b.entries) > maxFindings {
		var oldest *findingEntry
		for _, e := range b.entries {
			if oldest == nil || e.last.Before(oldest.last) {
				oldest = e
			}
		}
		delete(b.entries, oldest.key())
	}
}

// sentenceOf is the recorded sentence of f, or one without the place when
// the book has not seen it.
func (b *findingBook) sentenceOf(f threat.Finding) string {
	if b == nil {
		return sentence(f, seen{}, 1, f.At)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.entries[f.Rule+"|"+f.Scope.Key()]; e != nil {
		return e.sentence
	}
	return sentence(f, seen{}, 1, f.At)
}

func (b *findingBook) active(e *findingEntry, now time.Time) bool {
	return e.f.Latches() || now.Sub(e.last) < b.window
}

func (e *findingEntry) dto(active bool) api.Finding {
	return api.Finding{Rule: e.f.Rule, Detector: string(e.f.Detector), Reason: string(e.f.Reason),
		Severity: strings.ToLower(e.f.Severity.String()), Scope: scopeKey(e.f.Scope), Sentence: e.sentence,
		FirstSeen: e.first, LastSeen: e.last, Count: e.count, Active: active, Latched: e.f.Latches(),
		Response: responseNames(e.f.Response), DecisionSeq: e.decision}
}

func (e *findingEntry) ref() api.FindingRef {
	return api.FindingRef{Rule: e.f.Rule, Severity: strings.ToLower(e.f.Severity.String()), Scope: scopeKey(e.f.Scope), Sentence: e.sentence}
}

// list is every finding held: active first, then by last seen, newest first.
func (b *findingBook) list(now time.Time) []api.Finding {
	if b == nil {
		return []api.Finding{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.prune(now)
	out := make([]api.Finding, 0, len(b.entries))
	for _, e := range b.entries {
		out = append(out, e.dto(b.active(e, now)))
	}
	slices.SortFunc(out, func(x, y api.Finding) int {
		if x.Active != y.Active {
			if x.Active {
				return -1
			}
			return 1
		}
		if c := y.LastSeen.Compare(x.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(x.Rule+x.Scope, y.Rule+y.Scope)
	})
	return out
}

// topLocked is the most severe active finding, the latest among equals.
func (b *findingBook) topLocked(now time.Time) *findingEntry {
	var top *findingEntry
	for _, e := range b.entries {
		if !b.active(e, now) {
			continue
		}
		if top == nil || e.f.Severity > top.f.Severity ||
			(e.f.Severity == top.f.Severity && (e.last.After(top.last) || (e.last.Equal(top.last) && e.key() < top.key()))) {
			top = e
		}
	}
	return top
}

func (b *findingBook) top(now time.Time) *api.FindingRef {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.topLocked(now); e != nil {
		r := e.ref()
		return &r
	}
	return nil
}

// decided links a threat decision to the finding it acted on (the top
// active one) and returns that finding.
func (b *findingBook) decided(seq uint64, now time.Time) *api.FindingRef {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.topLocked(now)
	if e == nil {
		return nil
	}
	s := seq
	e.decision = &s
	r := e.ref()
	if _, ok := b.refs[seq]; !ok {
		b.refSeqs = append(b.refSeqs, seq)
	}
	b.refs[seq] = r
	for len(b.refSeqs) > maxFindingRefs {
		delete(b.refs, b.refSeqs[0])
		b.refSeqs = b.refSeqs[1:]
	}
	return &r
}

// refOf is the finding a decision still in memory acted on.
func (b *findingBook) refOf(seq uint64) *api.FindingRef {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if r, ok := b.refs[seq]; ok {
		return &r
	}
	return nil
}

// quarantinesDTO is the switcher's quarantine book as the API shows it.
func quarantinesDTO(qs []switcher.QuarantineEntry) []api.QuarantineEntry {
	out := make([]api.QuarantineEntry, 0, len(qs))
	for _, q := range qs {
		k := quarantineKey(string(q.Key))
		kind, key, ok := strings.Cut(k, ":")
		if !ok {
			kind, key = string(switcher.QuarantineProfile), k
		}
		r := reasonDTO(q.Reason)
		r.Message = strings.ReplaceAll(r.Message, string(q.Key), k)
		out = append(out, api.QuarantineEntry{Kind: kind, Key: key, Since: q.Since, Until: q.Until, Count: q.Count, Reason: r})
	}
	slices.SortFunc(out, func(a, b api.QuarantineEntry) int { return a.Until.Compare(b.Until) })
	return out
}
