package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/datalink"
	"github.com/imsid/imsid/internal/probe"
	"github.com/imsid/imsid/internal/store"
	"github.com/imsid/imsid/internal/upstream"
	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/threat"
)

// Options configure a Daemon. Config and Open are required.
type Options struct {
	// Config must come from profiles.Load or profiles.Parse.
	Config *profiles.Config
	// Open opens the modem's AT port; it is called again, with backoff,
	// whenever the port is lost.
	Open modem.Opener
	// Logger receives the daemon's logs (default: discard).
	Logger *slog.Logger
	// Version is reported in heartbeats.
	Version string
	// DeviceID names the device upstream (default: upstream.device_id,
	// else derived from the machine id, else a random id kept in the state
	// file: see deviceID).
	DeviceID string
	// Clock drives the switcher (default: the system clock). The simulate
	// mode passes the simulator's accelerated clock.
	Clock switcher.Clock
	// Prober checks the data path (default: probe.New from the config).
	Prober switcher.Prober
	// Notifier receives sd_notify states (default: systemd's socket, a no-op
	// outside systemd).
	Notifier Notifier
	// WatchdogInterval overrides systemd's WATCHDOG_USEC (0: from the
	// environment; no watchdog when systemd did not ask for one).
	WatchdogInterval time.Duration
	// PersistEvery is how often state that changed is written (default:
	// the config's persist_every); the signal priors, the usage ledger and
	// the threat baseline are written every fifth time (and at shutdown).
	// Writes are fsync'd, so this trades flash wear against what a power
	// cut loses.
	PersistEvery time.Duration
	// ModemOptions are passed to modem.Connect.
	ModemOptions []modem.Option
	// UpstreamOptions are passed to upstream.New.
	UpstreamOptions []upstream.Option
	// OnProgress receives one line's worth per lifecycle change, decision
	// and threat alert (the simulate mode prints them).
	OnProgress func(Progress)
}

// Progress is one thing that happened, for people watching a run.
type Progress struct {
	At      time.Time // on the switcher's clock
	Kind    string    // "state", "decision", "threat"
	State   string
	Profile string
	// Code is the lifecycle event (state), the decision kind (decision) or
	// the detector rule (threat); Reason the decision's first reason code.
	Code   string
	Reason string
	Text   string
}

// Daemon is the running service. Create it with New and call Run once.
type Daemon struct {
	o   Options
	log *slog.Logger
	cfg atomic.Pointer[profiles.Config]

	st       *store.Store
	hub      *api.Hub
	metrics  *api.Metrics
	srv      *api.Server
	rep      *upstream.Reporter
	sw       atomic.Pointer[switcher.Switcher]
	cur      atomic.Pointer[driverModem] // nil while there is no session
	threat   *lockedThreat
	findings *findingBook
	ledger   *lockedLedger
	prober   *meteredProber
	link     *datalink.Manager
	jour     *journal
	q        *queue
	started  time.Time
	ready    atomic.Bool
	serving  atomic.Bool   // Run has set up what the API reads
	reqSeq   atomic.Uint64 // numbers operator requests
	pinFor   atomic.Pointer[pinRequest]
	progress atomic.Int64 // wall-clock unix nanos of the last sign of life

	mu         sync.Mutex
	lastThreat *threat.Result
	linkUp     bool              // as the newest view said (link events fire on a change)
	linkWhy    string            // the newest transition's event: a link event's reason
	switches   []upstream.Switch // finished switches, published with the next view's identities
	pinned     bool              // the newest view had a pin
	written    written           // what persist last wrote, record by record
	persistMu  sync.Mutex        // one persist at a time (loop, API, shutdown)

	persistKick chan struct{}
	lostKick    chan struct{}
	port        portState // the last failure to open the port, while there is no session

	// requeue is an operator's switch request accepted before a restart
	// and not acted on; the first switcher gets it again.
	requeue atomic.Pointer[manualRequest]
	// journalled: a manual request is in the state file (saves a write
	// per manual decision when there is none).
	journalled atomic.Bool

	// Records lost to failed writes (a full disk), for status and metrics.
	droppedDecisions, droppedUpstream atomic.Uint64
}

// noteDrop counts a record whose write failed, and reports whether it did
// (a write refused because the daemon is stopping is not a drop).
func (d *Daemon) noteDrop(record string, err error) bool {
	if err == nil || errors.Is(err, store.ErrClosed) || errors.Is(err, upstream.ErrClosed) {
		return false
	}
	switch record {
	case api.DropDecision:
		d.droppedDecisions.Add(1)
	case api.DropUpstreamEvent:
		d.droppedUpstream.Add(1)
	}
	d.metrics.AddWriteDrop(record)
	return true
}

// New checks o; nothing runs until Run.
func New(o Options) (*Daemon, error) {
	if o.Config == nil {
		return nil, errors.New("daemon: no config")
	}
	if o.Open == nil {
		return nil, errors.New("daemon: no port opener")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = switcher.SystemClock{}
	}
	if o.Notifier == nil {
		o.Notifier = SystemdNotifier{}
	}
	if o.PersistEvery <= 0 {
		o.PersistEvery = o.Config.PersistEvery.Std()
	}
	if o.PersistEvery <= 0 {
		o.PersistEvery = time.Minute
	}
	d := &Daemon{o: o, log: o.Logger, persistKick: make(chan struct{}, 1), lostKick: make(chan struct{}, 1)}
	d.cfg.Store(o.Config)
	return d, nil
}

// Config is the config in force.
func (d *Daemon) Config() *profiles.Config { return d.cfg.Load() }

// Reload swaps in cfg (validated by profiles.Load). Switching policy,
// profiles and probes change at once; the modem device, API listeners,
// upstream and state directory are read at start only and need a restart,
// which the log says.
func (d *Daemon) Reload(cfg *profiles.Config) error {
	if cfg == nil {
		return errors.New("daemon: reload: no config")
	}
	old := d.cfg.Load()
	if sw := d.sw.Load(); sw != nil {
		if err := sw.Reload(cfg); err != nil {
			return fmt.Errorf("daemon: reload: %w", err)
		}
	}
	d.cfg.Store(cfg)
	if d.prober != nil && d.o.Prober == nil {
		d.prober.set(probe.New(cfg.Policy.Probes, probe.WithInterface(datalink.ProbeInterface(cfg.Link))))
	}
	if d.threat != nil && (!sameJSON(old.Policy.Threats, cfg.Policy.Threats) || !sameJSON(old.Policy.Site, cfg.Policy.Site)) {
		if err := d.threat.reload(cfg); err != nil {
			d.log.Error("threat settings not reloaded; the old ones stay", "err", err)
		} else if d.findings != nil {
			d.findings.setWindow(switcher.ThreatConfig(cfg).Scoring.Window)
		}
	}
	for _, c := range restartOnly(old, cfg) {
		d.log.Warn("config change needs a restart to take effect", "field", c)
	}
	d.log.Info("config reloaded", "profiles", len(cfg.Profiles))
	d.notify("STATUS=config reloaded")
	return nil
}

func sameJSON(a, b any) bool {
	ja, erra := json.Marshal(a)
	jb, errb := json.Marshal(b)
	return erra == nil && errb == nil && string(ja) == string(jb)
}

func restartOnly(a, b *profiles.Config) []string {
	var out []string
	if a.Modem != b.Modem {
		out = append(out, "modem")
	}
	if !sameJSON(a.API, b.API) {
		out = append(out, "api")
	}
	if !sameJSON(a.Upstream, b.Upstream) {
		out = append(out, "upstream")
	}
	if !sameJSON(a.Link, b.Link) {
		out = append(out, "link")
	}
	if a.StateDir != b.StateDir {
		out = append(out, "state_dir")
	}
	if a.PersistEvery != b.PersistEvery {
		out = append(out, "persist_every")
	}
	if a.Log != b.Log {
		out = append(out, "log")
	}
	return out
}

// Run starts everything, serves until ctx ends, then shuts down in order:
// switcher, modem, API (drained), state persisted, outbox flushed best
// effort, store closed. It returns nil after a clean shutdown.
func (d *Daemon) Run(ctx context.Context) (err error) {
	cfg := d.cfg.Load()
	d.started = time.Now()
	d.alive()
	d.log.Info("imsid starting", "version", d.o.Version, "device", cfg.Modem.Device, "state_dir", cfg.StateDir,
		"profiles", len(cfg.Profiles), "method", string(cfg.SIM.Method), "upstream", cfg.Upstream.URL != "")
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return fmt.Errorf("state_dir: %w", err)
	}
	d.st, err = store.Open(cfg.StateDir, store.WithLogger(d.log.With("component", "store")),
		store.WithOutboxLimit(cfg.Upstream.OutboxMax, 0))
	if err != nil {
		return fmt.Errorf("state store: %w", err)
	}
	defer d.st.Close()
	if p := d.st.Recovered(); p != "" {
		d.log.Warn("the state file was unreadable; moved aside and started fresh", "moved_to", p)
	}

	restore, err := d.restore(cfg)
	if err != nil {
		return err
	}

	// One clock per mode: events are stamped by the clock that stamps the
	// decisions (the scenario's under --simulate).
	d.hub = api.NewHub(256, 64, d.o.Clock.Now)
	defer d.hub.Close()
	states := make([]string, 0, len(switcher.AllStates))
	for _, s := range switcher.AllStates {
		states = append(states, string(s))
	}
	d.metrics = api.NewMetrics(states...)
	base := d.o.Prober
	if base == nil {
		base = probe.New(cfg.Policy.Probes, probe.WithInterface(datalink.ProbeInterface(cfg.Link)))
	}
	d.prober = &meteredProber{m: d.metrics, clock: d.o.Clock}
	d.prober.set(base)
	// The datalink exists before anything can call into it (the API's
	// status and pin handlers, the switcher's callbacks).
	d.link = datalink.New(datalink.Options{
		Link:    cfg.Link,
		Profile: func(name string) *profiles.Profile { return d.cfg.Load().Profile(name) },
		Modem: func() datalink.DataCaller {
			if a := d.cur.Load(); a != nil {
				return a.Driver()
			}
			return nil
		},
		Clock: d.o.Clock,
		Log:   d.log.With("component", "datalink"),
	})
	defer d.link.Close()
	registerLinkMetrics(d.metrics, d.link)
	registerFleetMetrics(d, d.metrics)

	acfg, err := api.ConfigFrom(cfg.API)
	if err != nil {
		return err
	}
	acfg.Logger = d.log.With("component", "api")
	acfg.Metrics = d.metrics
	acfg.Now = d.o.Clock.Now // retry_after_s, ?since= and pin expiry on the decisions' clock
	d.srv, err = api.New(&backend{d: d}, acfg)
	if err != nil {
		return err
	}
	// The backend reads the store, the ledger, the prober and the findings
	// from here on, with or without a modem.
	d.serving.Store(true)
	if err := d.srv.Start(); err != nil {
		return err
	}
	if cfg.API.Socket != "" {
		d.log.Info("api listening", "socket", cfg.API.Socket)
	}
	if a := d.srv.TCPAddr(); a != nil {
		d.log.Info("api listening", "tcp", a.String())
	}
	// The service is up when it answers: systemctl start must not wait for
	// a modem that may be absent for hours, and status explains why
	// (/readyz stays 503 until the modem session is up).
	d.notify("STATUS=serving the API; opening the modem port " + cfg.Modem.Device)
	d.notify("READY=1")

	d.q = newQueue()
	qdone := make(chan struct{})
	go func() { defer close(qdone); d.q.run() }()

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if cfg.Upstream.URL != "" {
		opts := append([]upstream.Option{
			upstream.WithLogger(d.log.With("component", "upstream")),
			upstream.WithHeartbeatData(d.heartbeat),
			upstream.WithOnAdvisories(d.onAdvisories),
		}, d.o.UpstreamOptions...)
		d.rep, err = upstream.New(cfg.Upstream, d.deviceID(cfg), d.st, opts...)
		if err != nil {
			d.srv.Close()
			d.q.close()
			<-qdone
			return err
		}
		wg.Add(1)
		go func() { defer wg.Done(); _ = d.rep.Run(runCtx) }()
	}

	wg.Add(3)
	go func() { defer wg.Done(); d.persistLoop(runCtx) }()
	go func() { defer wg.Done(); d.metricsLoop(runCtx) }()
	go func() { defer wg.Done(); d.watchdogLoop(runCtx) }()

	sessErr := d.session(runCtx, restore)
	// The switcher is stopped: no callback feeds the datalink any more.
	d.link.Close()
	// A switch that finished in the last tick is still reported.
	if sw := d.sw.Load(); sw != nil {
		d.mu.Lock()
		left := d.switches
		d.switches = nil
		d.mu.Unlock()
		if len(left) > 0 {
			v := sw.View()
			d.q.push(func() { d.publishSwitches(v, left) })
		}
	}

	// Shutdown, in dependency order.
	d.notify("STOPPING=1")
	d.log.Info("shutting down")
	d.ready.Store(false)
	cancel()
	wg.Wait()
	if err := d.srv.Close(); err != nil {
		d.log.Warn("api shutdown", "err", err)
	}
	d.q.close()
	<-qdone
	d.persistFull()
	if d.rep != nil {
		fctx, fcancel := context.WithTimeout(context.Background(), 3*time.Second)
		if err := d.rep.Flush(fctx); err != nil {
			d.log.Info("outbox not fully flushed; it is kept for the next start", "queued", d.st.Len(), "err", err)
		}
		fcancel()
		d.rep.Close()
	}
	if ctx.Err() != nil {
		return nil
	}
	return sessErr
}

// restore reads what a previous run left: the switcher snapshot, the
// journal's unfinished switch (which wins over the snapshot: the journal is
// written before the modem is touched), the threat baseline and the ledger.
func (d *Daemon) restore(cfg *profiles.Config) (*switcher.Snapshot, error) {
	var snap *switcher.Snapshot
	if raw, err := d.st.Snapshot(); err == nil {
		var s switcher.Snapshot
		if err := json.Unmarshal(raw, &s); err != nil {
			d.log.Warn("stored switcher state unreadable; starting fresh", "err", err)
		} else {
			snap = &s
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("state store: %w", err)
	}
	un, err := d.st.Unfinished()
	if err != nil {
		return nil, fmt.Errorf("state store: %w", err)
	}
	d.jour = &journal{d: d, byRef: map[uint64]switcher.Intent{}}
	d.requeue.Store(d.journalledRequest())
	if snap != nil {
		snap.Pending = nil
	}
	for i, in := range un {
		var si switcher.Intent
		if err := json.Unmarshal(in.Detail, &si); err != nil || i < len(un)-1 {
			// Superseded by a later intent, or unreadable: nothing to reconcile.
			_ = d.st.EndSwitch(store.Outcome{ID: in.ID, Result: "reconciled", Finished: time.Now()})
			continue
		}
		if snap == nil {
			snap = &switcher.Snapshot{}
		}
		snap.Pending = &si
		d.jour.byRef[si.Seq] = si
		d.log.Warn("a switch was interrupted; reconciling with what the modem reports",
			"from", si.From, "to", si.To, "seq", si.Seq)
	}

	var base *threat.Baseline
	if raw, err := d.st.Baseline(); err == nil {
		var b threat.Baseline
		if err := json.Unmarshal(raw, &b); err != nil {
			d.log.Warn("stored threat baseline unreadable; learning anew", "err", err)
		} else {
			base = &b
		}
	}
	eng, err := threat.New(switcher.ThreatConfig(cfg), base)
	if err != nil {
		return nil, fmt.Errorf("threat engine: %w", err)
	}
	d.findings = newFindingBook(switcher.ThreatConfig(cfg).Scoring.Window)
	d.threat = &lockedThreat{e: eng, site: cfg.Policy.Site, book: d.findings}

	loc := siteLocation(cfg, d.log)
	led := profiles.NewLedger(loc)
	if raw, err := d.st.Ledger(); err == nil {
		var l profiles.Ledger
		if err := json.Unmarshal(raw, &l); err != nil {
			d.log.Warn("stored usage ledger unreadable; counting anew", "err", err)
		} else {
			l.Location = loc
			if l.Current == nil {
				l.Current = map[string]*profiles.Usage{}
			}
			led = &l
		}
	}
	d.ledger = &lockedLedger{l: led}
	return snap, nil
}

func siteLocation(cfg *profiles.Config, log *slog.Logger) *time.Location {
	tz := cfg.Policy.Site.TimeZone
	if tz == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		log.Warn("site time zone unknown; billing periods in UTC", "time_zone", tz, "err", err)
		return time.UTC
	}
	return loc
}

// alive records a sign of life for the watchdog.
func (d *Daemon) alive() { d.progress.Store(time.Now().UnixNano()) }

// session keeps a modem session up: connect (with backoff), hand it to the
// switcher, wait for it to be lost, repeat. It returns when ctx ends.
func (d *Daemon) session(ctx context.Context, restore *switcher.Snapshot) error {
	cfg := d.cfg.Load()
	open := func(ctx context.Context) (io.ReadWriteCloser, error) {
		d.alive()
		return d.o.Open(ctx)
	}
	// The driver reports every command it sent, timed from the command to
	// its final result: the AT metrics need no second parse of the wire.
	mopts := append([]modem.Option{modem.WithLogger(d.log.With("component", "modem")),
		modem.WithCommandObserver(d.observeAT)}, d.o.ModemOptions...)
	if cfg.Modem.Dialect != "" && cfg.Modem.Dialect != profiles.DialectAuto {
		if dl, err := modem.ParseDialect(string(cfg.Modem.Dialect)); err == nil {
			mopts = append(mopts, modem.WithDialect(dl))
		}
	}
	var runDone chan struct{}
	defer func() {
		if sw := d.sw.Load(); sw != nil {
			sw.Close()
			if runDone != nil {
				<-runDone
			}
		}
	}()
	for first := true; ; first = false {
		d.notify("STATUS=opening the modem port " + cfg.Modem.Device)
		m, err := d.connect(ctx, open, mopts)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("modem: %w", err)
		}
		ictx, icancel := context.WithTimeout(ctx, 10*time.Second)
		id, err := m.Identity(ictx)
		icancel()
		if err != nil {
			d.log.Warn("modem identity unavailable", "err", err)
		}
		a := newDriverModem(m, id, d.sampleUsage)
		a.onCounters = func(c modem.DataCounters) {
			if sw := d.sw.Load(); sw != nil {
				d.recordCounters(sw.View(), c)
			}
		}
		d.cur.Store(a)
		d.log.Info("modem session up", "manufacturer", id.Manufacturer, "model", id.Model,
			"revision", id.Revision, "dialect", string(m.Dialect()))
		if first {
			sw, err := d.newSwitcher(a, restore)
			if err != nil {
				m.Close()
				a.wait()
				return err
			}
			d.sw.Store(sw)
			runDone = make(chan struct{})
			go func() { defer close(runDone); _ = sw.Run(ctx) }()
		} else {
			d.sw.Load().Reopened(a)
		}
		d.ready.Store(true)
		d.notify("STATUS=modem up; " + string(d.sw.Load().State()))

		select {
		case <-ctx.Done():
		case <-m.Done():
			d.log.Warn("modem port lost; reopening", "err", m.Err())
		case <-d.lostKick:
			d.log.Warn("the switcher asked for the port to be reopened")
		}
		d.ready.Store(false)
		d.cur.Store(nil)
		if ctx.Err() != nil {
			// Stop the switcher before the modem goes, so no tick uses it.
			d.sw.Load().Close()
			<-runDone
		} else {
			// Let the switcher see the loss now (it moves to modem_lost and
			// stops using the modem) before the session is closed under it,
			// and so that Reopened finds it there, whatever its poll interval.
			_ = d.sw.Load().Tick(ctx)
		}
		m.Close()
		a.wait()
		// A request to reopen made while this session was dying is about
		// this session, not the next.
		select {
		case <-d.lostKick:
		default:
		}
		if ctx.Err() != nil {
			return nil
		}
		d.notify("STATUS=modem lost; reopening")
	}
}

func (d *Daemon) newSwitcher(a *driverModem, restore *switcher.Snapshot) (*switcher.Switcher, error) {
	cfg := d.cfg.Load()
	opts := []switcher.Option{
		switcher.WithClock(d.o.Clock),
		switcher.WithLogger(d.log.With("component", "switcher")),
		switcher.WithJournal(d.jour),
		switcher.WithProber(d.prober),
		switcher.WithThreat(d.threat),
		switcher.WithUsage(d.ledger),
		switcher.WithOnDecision(d.onDecision),
		switcher.WithOnTransition(d.onTransition),
		switcher.WithOnThreat(d.onThreat),
		// Persist after the tick has published its view: a kick from a
		// decision, mid-tick, would still export the state before it.
		switcher.WithOnTick(d.onTick),
		// Then the tick's view: the datalink, link events, upstream switch
		// events and the signal gauges all read this one view.
		switcher.WithOnView(d.onView),
		switcher.WithOnModemLost(func() {
			select {
			case d.lostKick <- struct{}{}:
			default:
			}
		}),
	}
	if datalink.External(cfg.Link) {
		opts = append(opts, switcher.WithExternalDataSession())
	}
	if restore != nil {
		opts = append(opts, switcher.WithRestore(*restore))
	}
	// Decision numbers continue the stored history, so /v1/decisions pages
	// through earlier runs and this one as one sequence.
	if last, err := d.st.LastDecisionSeq(); err == nil {
		opts = append(opts, switcher.WithDecisionSeq(last))
	}
	return switcher.New(cfg, a, opts...)
}

func (d *Daemon) notify(state string) {
	if err := d.o.Notifier.Notify(state); err != nil {
		d.log.Debug("sd_notify", "err", err)
	}
}

// written is the last bytes persist wrote per record (under persistMu).
type written struct {
	core, snap, pin, quar, ledger, baseline []byte
	active                                  string
}

// onTick runs at the end of every switcher tick: persist what changed
// (it does not block).
func (d *Daemon) onTick() {
	d.kickPersist()
	sw := d.sw.Load()
	if sw == nil {
		return
	}
	if d.requeue.Load() != nil {
		// After the tick has published its view, so the request sees the
		// settled state; outside the switcher's goroutine.
		go d.requeueRequest(sw)
	}
}

func (d *Daemon) kickPersist() {
	select {
	case d.persistKick <- struct{}{}:
	default:
	}
}

// persistLoop writes the switcher snapshot when it changes and, every
// PersistEvery, the usage ledger and the threat baseline too.
func (d *Daemon) persistLoop(ctx context.Context) {
	t := time.NewTicker(d.o.PersistEvery)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-d.persistKick:
			d.persistMu.Lock()
			d.persist(false)
			d.persistMu.Unlock()
		case <-t.C:
			full := n%5 == 0
			if full {
				d.sampleUsage(ctx)
			}
			d.persistMu.Lock()
			d.persist(full)
			d.persistMu.Unlock()
		}
	}
}

// persist writes what changed, each record in its own small transaction.
// Flash wears with every fsync, so a record is written only when its bytes
// differ from the last write, and the smoothed signal priors (which move at
// every poll) only on a full round: a restart loses at most PersistEvery×5
// of smoothing, never a pin, a quarantine, a switch or the active profile.
// full also writes the usage ledger and the threat baseline. Callers hold
// persistMu.
func (d *Daemon) persist(full bool) {
	if sw := d.sw.Load(); sw != nil {
		snap := sw.Export()
		core := snap
		core.Signal = nil
		rawCore, err1 := json.Marshal(core)
		raw, err2 := json.Marshal(snap)
		if err1 == nil && err2 == nil {
			w := d.written
			if !bytes.Equal(rawCore, w.core) || (full && !bytes.Equal(raw, w.snap)) {
				if err := d.st.SetSnapshot(raw); err != nil {
					d.log.Warn("persist switcher state", "err", err)
				} else {
					w.core, w.snap = rawCore, raw
				}
			}
			if snap.Active != "" && snap.Active != w.active {
				if err := d.st.SetActive(snap.Active); err == nil {
					w.active = snap.Active
				}
			}
			if pin, _ := json.Marshal(snap.Pin); !bytes.Equal(pin, w.pin) {
				if d.persistPin(snap.Pin) == nil {
					w.pin = pin
				}
			}
			if q, _ := json.Marshal(snap.Quarantines); !bytes.Equal(q, w.quar) {
				if d.persistQuarantines(snap.Quarantines) == nil {
					w.quar = q
				}
			}
			d.written = w
		}
	}
	if !full {
		return
	}
	if raw, err := d.ledger.json(); err == nil && !bytes.Equal(raw, d.written.ledger) {
		if err := d.st.SetLedger(raw); err != nil {
			d.log.Warn("persist usage ledger", "err", err)
		} else {
			d.written.ledger = raw
		}
	}
	if raw, err := d.threat.baselineJSON(); err == nil && !bytes.Equal(raw, d.written.baseline) {
		if err := d.st.SetBaseline(raw); err != nil {
			d.log.Warn("persist threat baseline", "err", err)
		} else {
			d.written.baseline = raw
		}
	}
}

// persistFull writes everything now, between the loop's rounds.
func (d *Daemon) persistFull() {
	d.persistMu.Lock()
	defer d.persistMu.Unlock()
	d.persist(true)
}

// persistQuarantines mirrors the switcher's quarantine book into the
// store's own table, where tools and the fleet can read it without
// decoding the snapshot.
func (d *Daemon) persistQuarantines(qs []switcher.QuarantineEntry) error {
	out := make([]store.Quarantine, 0, len(qs))
	for _, q := range qs {
		scope, key := string(q.Key.Kind()), q.Key.Name()
		if scope == "" {
			scope, key = string(switcher.QuarantineProfile), string(q.Key)
		}
		out = append(out, store.Quarantine{Scope: scope, Key: key, Until: q.Until, Count: q.Count, Since: q.Since,
			Reason: string(q.Reason.Code)})
	}
	err := d.st.ReplaceQuarantines(out)
	if err != nil {
		d.log.Warn("persist quarantines", "err", err)
	}
	return err
}

func (d *Daemon) persistPin(p *switcher.Pin) error {
	if p == nil {
		return d.st.ClearPin()
	}
	return d.st.SetPin(store.Pin{Profile: p.Profile, Since: p.Since, Until: p.Until})
}

// sampleUsage reads the modem's data counters into the ledger, charged to
// the active profile. It runs before each switch and periodically.
func (d *Daemon) sampleUsage(ctx context.Context) {
	a, sw := d.cur.Load(), d.sw.Load()
	if a == nil || sw == nil {
		return
	}
	v := sw.View()
	if d.cfg.Load().Profile(v.Active) == nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	c, err := a.Driver().DataCounters(cctx)
	cancel()
	if err != nil {
		return
	}
	d.recordCounters(v, c)
}

// recordCounters charges a counter reading to the active profile of the
// newest view, roaming as its registrations say.
func (d *Daemon) recordCounters(v *switcher.View, c modem.DataCounters) {
	p := d.cfg.Load().Profile(v.Active)
	if p == nil {
		return
	}
	roaming := false
	for _, r := range v.Modem.Registrations {
		roaming = roaming || r.Status.Roaming()
	}
	closed := d.ledger.observe(p, profiles.Sample{At: d.o.Clock.Now(), Up: c.Sent, Down: c.Received, Roaming: roaming})
	for _, u := range closed {
		// A billing period ended: keep its total for the record.
		raw, err := json.Marshal(u)
		if err == nil {
			err = d.st.PutUsage(u.Profile, u.Period.Start.Format("2006-01-02"), raw)
		}
		if err != nil {
			d.log.Warn("persist closed usage period", "profile", u.Profile, "err", err)
		}
	}
}

// watchdogLoop pings systemd's watchdog only while the control loop makes
// progress, so a wedged loop gets the service restarted.
func (d *Daemon) watchdogLoop(ctx context.Context) {
	wd := d.o.WatchdogInterval
	if wd == 0 {
		wd = systemdWatchdog()
	}
	if wd <= 0 {
		return
	}
	t := time.NewTicker(wd / 3)
	defer t.Stop()
	var lastAt time.Time
	stalled := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if sw := d.sw.Load(); sw != nil {
			if at := sw.Status().At; !at.Equal(lastAt) {
				lastAt = at
				d.alive()
			}
		}
		since := time.Since(time.Unix(0, d.progress.Load()))
		if since < wd {
			if stalled {
				d.log.Info("control loop making progress again")
			}
			stalled = false
			d.notify("WATCHDOG=1")
		} else if !stalled {
			stalled = true
			d.log.Error("control loop made no progress; withholding the watchdog ping", "for", since.Round(time.Millisecond))
		}
	}
}
