package api

import (
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the daemon's Prometheus collectors on a private registry (a
// library must not register on the global one). The daemon calls its
// setters; the Server exposes it on GET /metrics. Safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	rssi, rsrp, rsrq, sinr prometheus.Gauge
	state                  *prometheus.GaugeVec
	switches               *prometheus.CounterVec
	threat                 *prometheus.GaugeVec
	probe                  *prometheus.HistogramVec
	atLatency              *prometheus.HistogramVec
	atErrors               *prometheus.CounterVec
	outbox                 prometheus.Gauge
	outboxDropped          prometheus.Counter
	writeDrops             *prometheus.CounterVec
	apiRequests            *prometheus.CounterVec
	apiLatency             *prometheus.HistogramVec
	sseClients             prometheus.Gauge
	authFailures           *prometheus.CounterVec

	mu     sync.Mutex
	states map[string]struct{}
}

// NewMetrics creates the collectors. states are the lifecycle states shown
// as 0 before the daemon first enters them, so a dashboard sees every series
// from the start.
func NewMetrics(states ...string) *Metrics {
	const ns = "imsid"
	m := &Metrics{reg: prometheus.NewRegistry(), states: map[string]struct{}{}}
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: name, Help: help})
	}
	m.rssi = g("signal_rssi_dbm", "Received signal strength (dBm); NaN when the modem does not report it.")
	m.rsrp = g("signal_rsrp_dbm", "LTE/NR reference signal received power (dBm); NaN when unknown.")
	m.rsrq = g("signal_rsrq_db", "LTE/NR reference signal received quality (dB); NaN when unknown.")
	m.sinr = g("signal_sinr_db", "Signal to interference plus noise ratio (dB); NaN when unknown.")
	m.state = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "state",
		Help: "Lifecycle state, one-hot: 1 for the current state, 0 for the others."}, []string{"state"})
	m.switches = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "switches_total",
		Help: "Profile switches started, by trigger class and primary reason code."}, []string{"trigger", "reason"})
	m.threat = prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: ns, Name: "threat_score",
		Help: "Windowed threat score per scope (device, profile:NAME, plmn:MCCMNC, cell:...)."}, []string{"scope"})
	m.probe = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "probe_duration_seconds",
		Help:    "Data-path probe latency, by result (ok, fail).",
		Buckets: []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"result"})
	m.atLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "at_command_duration_seconds",
		Help:    "AT command round-trip time, by command (name only, never arguments).",
		Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 180}}, []string{"command"})
	m.atErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "at_command_errors_total",
		Help: "AT commands that failed, by command and kind (error, cme, cms, timeout, ...)."}, []string{"command", "kind"})
	m.outbox = g("outbox_depth", "Events waiting in the upstream outbox.")
	m.outboxDropped = prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "outbox_dropped_total",
		Help: "Events dropped from the full upstream outbox (oldest first)."})
	m.writeDrops = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "state_write_drops_total",
		Help: "Records the daemon could not write to its state file (a full or failing disk), by record: decision, upstream_event."}, []string{"record"})
	for _, r := range []string{DropDecision, DropUpstreamEvent} {
		m.writeDrops.WithLabelValues(r)
	}
	m.apiRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "api_requests_total",
		Help: "HTTP API requests, by route pattern and status code."}, []string{"route", "code"})
	m.apiLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "api_request_duration_seconds",
		Help:    "HTTP API request latency (SSE excluded), by route pattern.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1}}, []string{"route"})
	m.sseClients = g("api_sse_clients", "Connected GET /v1/events streams.")
	m.authFailures = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "api_auth_failures_total",
		Help: "TCP requests refused for a missing or wrong bearer token."}, []string{"reason"})

	m.reg.MustRegister(m.rssi, m.rsrp, m.rsrq, m.sinr, m.state, m.switches, m.threat, m.probe,
		m.atLatency, m.atErrors, m.outbox, m.outboxDropped, m.apiRequests, m.apiLatency, m.sseClients,
		m.authFailures, m.writeDrops,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.SetSignal(nil, nil, nil, nil)
	for _, s := range states {
		m.states[s] = struct{}{}
		m.state.WithLabelValues(s).Set(0)
	}
	return m
}

// Registry is the private registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

func orNaN(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// SetSignal records the latest measurement; nil means not reported.
func (m *Metrics) SetSignal(rssi, rsrp, rsrq, sinr *float64) {
	m.rssi.Set(orNaN(rssi))
	m.rsrp.Set(orNaN(rsrp))
	m.rsrq.Set(orNaN(rsrq))
	m.sinr.Set(orNaN(sinr))
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
		m.state.WithLabelValues(s).Set(v)
	}
}

// IncSwitch counts one switch started by trigger for reason (a reason code
// from a small fixed vocabulary: it is a label).
func (m *Metrics) IncSwitch(trigger, reason string) {
	m.switches.WithLabelValues(trigger, reason).Inc()
}

// SetThreatScores replaces every threat score, so scopes the engine no
// longer tracks disappear instead of going stale.
func (m *Metrics) SetThreatScores(scores map[string]float64) {
	m.threat.Reset()
	for scope, v := range scores {
		m.threat.WithLabelValues(scope).Set(v)
	}
}

// ObserveProbe records one data-path probe.
func (m *Metrics) ObserveProbe(d time.Duration, ok bool) {
	r := "fail"
	if ok {
		r = "ok"
	}
	m.probe.WithLabelValues(r).Observe(d.Seconds())
}

// ObserveATCommand records one AT command. command may be the full line:
// only its name is used as the label, so arguments (APDUs, PLMNs) never
// reach the metrics. errKind is "" for success, else a short class such as
// "error", "cme", "timeout".
func (m *Metrics) ObserveATCommand(command string, d time.Duration, errKind string) {
	c := ATCommandLabel(command)
	m.atLatency.WithLabelValues(c).Observe(d.Seconds())
	if errKind != "" {
		m.atErrors.WithLabelValues(c, errKind).Inc()
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
func (m *Metrics) SetOutboxDepth(n int) { m.outbox.Set(float64(n)) }

// AddOutboxDropped counts events dropped from the outbox.
func (m *Metrics) AddOutboxDropped(n uint64) { m.outboxDropped.Add(float64(n)) }

// Records counted by AddWriteDrop.
const (
	DropDecision      = "decision"
	DropUpstreamEvent = "upstream_event"
)

// AddWriteDrop counts a record that could not be written (DropDecision,
// DropUpstreamEvent).
func (m *Metrics) AddWriteDrop(record string) { m.writeDrops.WithLabelValues(record).Inc() }
