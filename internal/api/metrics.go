package api

import (
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Metrics holds the daemon's metrics and writes them in the Prometheus
// text format (expo.go; no client library). The daemon calls its setters
// and adds the series it computes at scrape time with Collect; the Server
// exposes it on GET /metrics. Safe for concurrent use. Labels are bounded:
// no identifier (IMSI, ICCID, cell) is ever a label value.
type Metrics struct {
	rssi, rsrp, rsrq, sinr *family
	state                  *family
	switches               *family
	threat                 *family
	probe                  *family
	atLatency              *family
	atErrors               *family
	outbox                 *family
	outboxDropped          *family
	writeDrops             *family
	apiRequests            *family
	apiLatency             *family
	sseClients             *family
	authFailures           *family

	mu         sync.Mutex
	states     map[string]struct{}
	fams       []*family
	collectors []collector
}

type collector struct {
	f  *family
	fn func() []Sample
}

// Sample is one series of a family computed at scrape time: its label
// values, in the order of the family's label names, and its value. A NaN
// value is left out (an unknown value is an absent series).
type Sample struct {
	Labels []string
	Value  float64
}

// NewMetrics creates the metrics. states are the lifecycle states shown
// as 0 before the daemon first enters them, so a dashboard sees every series
// from the start.
func NewMetrics(states ...string) *Metrics {
	m := &Metrics{states: map[string]struct{}{}}
	fam := func(name, help string, kind metricKind, buckets []float64, labels ...string) *family {
		f := newFamily("imsid_"+name, help, kind, buckets, labels...)
		m.fams = append(m.fams, f)
		return f
	}
	g := func(name, help string, labels ...string) *family { return fam(name, help, kindGauge, nil, labels...) }
	c := func(name, help string, labels ...string) *family { return fam(name, help, kindCounter, nil, labels...) }
	m.rssi = g("signal_rssi_dbm", "Received signal strength (dBm); absent when the modem does not report it.")
	m.rsrp = g("signal_rsrp_dbm", "LTE/NR reference signal received power (dBm); absent when unknown.")
	m.rsrq = g("signal_rsrq_db", "LTE/NR reference signal received quality (dB); absent when unknown.")
	m.sinr = g("signal_sinr_db", "Signal to interference plus noise ratio (dB); absent when unknown.")
	m.state = g("state", "Lifecycle state, one-hot: 1 for the current state, 0 for the others.", "state")
	m.switches = c("switches_total", "Profile switches started, by trigger class and primary reason code.", "reason", "trigger")
	m.threat = g("threat_score", "Highest windowed threat score per scope kind (device, profile, plmn, cell).", "scope")
	m.probe = fam("probe_duration_seconds", "Data-path probe latency, by result (ok, fail).", kindHistogram,
		[]float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10}, "result")
	m.atLatency = fam("at_command_duration_seconds", "AT command round-trip time, by command (name only, never arguments).", kindHistogram,
		[]float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 180}, "command")
	m.atErrors = c("at_command_errors_total", "AT commands that failed, by command and kind (error, cme, cms, timeout, ...).", "command", "kind")
	m.outbox = g("outbox_depth", "Events waiting in the upstream outbox.")
	m.outboxDropped = c("outbox_dropped_total", "Events dropped from the full upstream outbox (oldest first).")
	m.writeDrops = c("state_write_drops_total", "Records the daemon could not write to its state file (a full or failing disk), by record: decision, upstream_event.", "record")
	for _, r := range []string{DropDecision, DropUpstreamEvent} {
		m.writeDrops.add(0, r)
	}
	m.apiRequests = c("api_requests_total", "HTTP API requests, by route pattern and status code.", "code", "route")
	m.apiLatency = fam("api_request_duration_seconds", "HTTP API request latency (SSE excluded), by route pattern.", kindHistogram,
		[]float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}, "route")
	m.sseClients = g("api_sse_clients", "Connected GET /v1/events streams.")
	m.authFailures = c("api_auth_failures_total", "TCP requests refused for a missing or wrong bearer token.", "reason")
	m.outbox.set(0)
	m.outboxDropped.add(0)
	m.sseClients.set(0)
	for _, s := range states {
		m.states[s] = struct{}{}
		m.state.set(0, s)
	}
	m.collectRuntime()
	return m
}

// Collect adds a family whose series fn computes at every scrape: a gauge,
// or a counter when counter is set. name is the full metric name; labels
// are its label names, sorted. It panics on a name already in use.
func (m *Metrics) Collect(name, help string, counter bool, labels []string, fn func() []Sample) {
	kind := kindGauge
	if counter {
		kind = kindCounter
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, f := range m.fams {
		if f.name == name {
			panic("api: metric " + name + " registered twice")
		}
	}
	f := newFamily(name, help, kind, nil, labels...)
	m.fams = append(m.fams, f)
	m.collectors = append(m.collectors, collector{f, fn})
}

// Names lists every metric family name the metrics can export, sorted.
func (m *Metrics) Names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, f := range m.fams {
		out = append(out, f.name)
	}
	slices.Sort(out)
	return out
}

// Expose writes the exposition to w.
func (m *Metrics) Expose(w io.Writer) error {
	m.mu.Lock()
	fams := slices.Clone(m.fams)
	cols := slices.Clone(m.collectors)
	m.mu.Unlock()
	extra := make(map[*family][]sample, len(cols))
	for _, c := range cols {
		ss := []sample{}
		for _, s := range c.fn() {
			ss = append(ss, sample{s.Labels, s.Value})
		}
		extra[c.f] = ss
	}
	return writeFamilies(w, fams, extra)
}

// ContentType is the exposition's media type.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Handler serves the exposition format.
func (m *Metrics) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", ContentType)
		_ = m.Expose(w)
	})
}

func orNaN(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// SetSignal records the latest measurement; nil means not reported, and
// its series is then absent.
func (m *Metrics) SetSignal(rssi, rsrp, rsrq, sinr *float64) {
	m.rssi.set(orNaN(rssi))
	m.rsrp.set(orNaN(rsrp))
	m.rsrq.set(orNaN(rsrq))
	m.sinr.set(orNaN(sinr))
}

// SetState makes state the one current state.
func (m *Metrics) SetState(state string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.states[state] = struct{}{}
	for s := range m.states {
		v := 0.0
		if s == state {
			v = 1
		}
		m.state.set(v, s)
	}
}

// IncSwitch counts one switch started by trigger for reason (a reason code
// from a small fixed vocabulary: it is a label).
func (m *Metrics) IncSwitch(trigger, reason string) {
	m.switches.add(1, reason, trigger)
}

// SetThreatScores replaces every threat score. scores are keyed by scope
// ("device", "profile:NAME", "plmn:26201", "cell:26201/5A29C0B"); the
// series are per scope kind, the highest score of the kind, so the label
// stays bounded however many cells the engine tracks. Kinds the engine no
// longer tracks disappear instead of going stale.
func (m *Metrics) SetThreatScores(scores map[string]float64) {
	byKind := map[string]float64{}
	for scope, v := range scores {
		kind, _, _ := strings.Cut(scope, ":")
		switch kind {
		case "device", "profile", "plmn", "cell":
		default:
			kind = "other"
		}
		if old, ok := byKind[kind]; !ok || v > old {
			byKind[kind] = v
		}
	}
	m.threat.mu.Lock()
	clear(m.threat.series)
	for kind, v := range byKind {
		m.threat.get([]string{kind}).v = v
	}
	m.threat.mu.Unlock()
}

// ObserveProbe records one data-path probe.
func (m *Metrics) ObserveProbe(d time.Duration, ok bool) {
	r := "fail"
	if ok {
		r = "ok"
	}
	m.probe.observe(d.Seconds(), r)
}

// ObserveATCommand records one AT command. command may be the full line:
// only its name is used as the label, so arguments (APDUs, PLMNs) never
// reach the metrics. errKind is "" for success, else a short class such as
// "error", "cme", "timeout".
func (m *Metrics) ObserveATCommand(command string, d time.Duration, errKind string) {
	c := ATCommandLabel(command)
	m.atLatency.observe(d.Seconds(), c)
	if errKind != "" {
		m.atErrors.add(1, c, errKind)
	}
}

// ATCommandLabel reduces an AT command line to its name and form:
// "AT+COPS=1,2,\"26201\"" → "+COPS=", "AT+CSQ" → "+CSQ", "AT+CREG?" →
// "+CREG?", "AT+COPS=?" → "+COPS=?". The result is bounded in length and
// character set so a garbage line cannot blow up label cardinality.
func ATCommandLabel(line string) string {
	s := strings.TrimSpace(line)
	if len(s) >= 2 && strings.EqualFold(s[:2], "AT") {
		s = s[2:]
	}
	name, form := s, ""
	if i := strings.IndexAny(s, "=?"); i >= 0 {
		name = s[:i]
		switch {
		case strings.HasPrefix(s[i:], "=?"):
			form = "=?"
		default:
			form = s[i : i+1]
		}
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		if b.Len() >= 16 {
			break
		}
		if r == '+' || r == '$' || r == '^' || r == '%' || r == '#' || r == '&' || r == '*' ||
			(r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "other"
	}
	return b.String() + form
}

// SetOutboxDepth records the outbox length.
func (m *Metrics) SetOutboxDepth(n int) { m.outbox.set(float64(n)) }

// AddOutboxDropped counts events dropped from the outbox.
func (m *Metrics) AddOutboxDropped(n uint64) { m.outboxDropped.add(float64(n)) }

// Records counted by AddWriteDrop.
const (
	DropDecision      = "decision"
	DropUpstreamEvent = "upstream_event"
)

// AddWriteDrop counts a record that could not be written (DropDecision,
// DropUpstreamEvent).
func (m *Metrics) AddWriteDrop(record string) { m.writeDrops.add(1, record) }
