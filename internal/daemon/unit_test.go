package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/store"
	"github.com/imsid/imsid/internal/upstream"
	"github.com/imsid/imsid/modem"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/threat"
)

func TestQueueKeepsOrderAndDrainsOnClose(t *testing.T) {
	q := newQueue()
	done := make(chan struct{})
	var got []int
	go func() { defer close(done); q.run() }()
	for i := range 1000 {
		q.push(func() { got = append(got, i) })
	}
	q.close()
	<-done
	q.push(func() { t.Error("a job after close ran") })
	if len(got) != 1000 {
		t.Fatalf("ran %d jobs", len(got))
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("job %d ran as %d", i, v)
		}
	}
}

// The driver's command observer feeds the AT metrics (no second parse of
// the wire): every result class gets its own error kind, and a command's
// arguments never reach a label.
func TestATObserverFeedsMetrics(t *testing.T) {
	d := &Daemon{metrics: api.NewMetrics()}
	for _, c := range []struct {
		cmd  string
		err  error
		kind string
	}{
		{"AT+CSQ", nil, ""},
		{"AT+CIMI", &modem.OpError{Cmd: "AT+CIMI", Err: &modem.CMEError{Code: 10}}, "cme"},
		{"AT+COPS?", &modem.OpError{Cmd: "AT+COPS?", Err: modem.ErrTimeout}, "timeout"},
		{"AT+CMGS=1", &modem.OpError{Cmd: "AT+CMGS=1", Err: fmt.Errorf("+CMS ERROR: 500: %w", modem.ErrError)}, "cms"},
		{"AT+CFUN=1", &modem.OpError{Cmd: "AT+CFUN=1", Err: modem.ErrPortLost}, "lost"},
		{"AT+QENG=\"servingcell\"", &modem.OpError{Err: modem.ErrError}, "error"},
	} {
		if got := atErrorKind(c.err); got != c.kind {
			t.Errorf("%s: kind %q, want %q", c.cmd, got, c.kind)
		}
		d.observeAT(c.cmd, 20*time.Millisecond, c.err)
	}
	rec := httptest.NewRecorder()
	d.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := rec.Body.String()
	for _, want := range []string{`command="+CSQ"`, `command="+CIMI",kind="cme"`, `command="+COPS?",kind="timeout"`,
		`kind="cms"`, `command="+CFUN=",kind="lost"`, `command="+QENG=",kind="error"`} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(out, "servingcell") {
		t.Error("a command's argument reached the metrics")
	}
}

func TestRefusalMapping(t *testing.T) {
	cfg := &profiles.Config{Profiles: []profiles.Profile{{Name: "a"}, {Name: "b"}}}
	d := &Daemon{}
	d.cfg.Store(cfg)
	b := &backend{d: d}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err := b.refusal(&switcher.RefusedError{Op: "force", Profile: "x", Reason: switcher.Reason{Code: switcher.CodeSwitchCap, Message: "cap"}, RetryAt: at})
	var re *api.RefusedError
	if !errors.As(err, &re) || re.Code != api.CodeSwitchCap || !re.RetryAt.Equal(at) {
		t.Fatalf("%v", err)
	}
	err = b.refusal(&switcher.RefusedError{Reason: switcher.Reason{Code: switcher.CodeUnknownProfile}})
	if !errors.As(err, &re) || strings.Join(re.Profiles, ",") != "a,b" {
		t.Fatalf("%v", err)
	}
	var ve *api.ValidationError
	if err := b.refusal(&switcher.RefusedError{Reason: switcher.Reason{Code: switcher.CodeBadRequest, Message: "negative"}}); !errors.As(err, &ve) {
		t.Fatalf("%v", err)
	}
	if err := b.refusal(switcher.ErrClosed); !errors.Is(err, api.ErrUnavailable) {
		t.Fatalf("%v", err)
	}
}

func TestSignalBars(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		s    api.Signal
		bars int
		ok   bool
	}{
		{api.Signal{RSRP: f(-125)}, 0, true},
		{api.Signal{RSRP: f(-95)}, 3, true},
		{api.Signal{RSRP: f(-70)}, 5, true},
		{api.Signal{RSSI: f(-90)}, 2, true},
		{api.Signal{}, 0, false},
	} {
		if b, ok := signalBars(tc.s); b != tc.bars || ok != tc.ok {
			t.Errorf("%+v: %d %v", tc.s, b, ok)
		}
	}
}

// A modem swapped on purpose latches D10b until a person acknowledges it;
// the acknowledgement accepts the new IMEI, which the baseline keeps.
func TestThreatAcknowledgement(t *testing.T) {
	c := threat.DefaultConfig()
	c.Site.CountryMCC = "310"
	eng, err := threat.New(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	lt := &lockedThreat{e: eng}
	at := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	obs := func(imei string) threat.Result {
		at = at.Add(time.Minute)
		r, err := lt.Observe(threat.Observation{At: at, Profile: "home", SIM: &threat.SIMIdentity{
			ICCID: "89010000000000000011", IMSI: "310260000000001", IMEI: imei, State: modem.SIMReady}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if lt.acknowledge(at, "") {
		t.Fatal("nothing latched yet, but acknowledge says it cleared something")
	}
	obs("356938035643809")
	if r := obs("356938035640000"); r.Overall.Level != threat.SeverityCritical {
		t.Fatalf("modem swap: level %v", r.Overall.Level)
	}
	if r := obs("356938035640000"); r.Overall.Level != threat.SeverityCritical {
		t.Fatalf("the tamper alarm did not latch: %v", r.Overall.Level)
	}
	if !lt.acknowledge(at, "89010000000000000011") {
		t.Fatal("acknowledge found nothing latched")
	}
	if r := obs("356938035640000"); r.Overall.Level == threat.SeverityCritical {
		t.Fatal("still critical after the acknowledgement")
	}
	raw, err := lt.baselineJSON()
	if err != nil || !strings.Contains(string(raw), "356938035640000") {
		t.Fatalf("the accepted IMEI is not in the baseline: %s %v", raw, err)
	}
}

// A write that fails on a full disk is counted (status and metrics); one
// refused because the daemon is stopping is not.
func TestWriteDropsCounted(t *testing.T) {
	d := &Daemon{metrics: api.NewMetrics()}
	full := &os.PathError{Op: "write", Path: "imsid.db", Err: syscall.ENOSPC}
	for _, tc := range []struct {
		record string
		err    error
		want   bool
	}{
		{api.DropDecision, nil, false},
		{api.DropDecision, store.ErrClosed, false},
		{api.DropUpstreamEvent, fmt.Errorf("outbox: %w", upstream.ErrClosed), false},
		{api.DropDecision, full, true},
		{api.DropDecision, full, true},
		{api.DropUpstreamEvent, fmt.Errorf("upstream: enqueue: %w", full), true},
	} {
		if got := d.noteDrop(tc.record, tc.err); got != tc.want {
			t.Errorf("%s %v: %v", tc.record, tc.err, got)
		}
	}
	if d.droppedDecisions.Load() != 2 || d.droppedUpstream.Load() != 1 {
		t.Fatalf("counted %d decisions, %d upstream events", d.droppedDecisions.Load(), d.droppedUpstream.Load())
	}
	rec := httptest.NewRecorder()
	d.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`imsid_state_write_drops_total{record="decision"} 2`, `imsid_state_write_drops_total{record="upstream_event"} 1`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// Link events come from the tick's view (#15 item 4): the event that says
// the link is up again after a switch names the new profile without a
// hint patched in from decisions, and it follows the state events queued
// in the same tick.
func TestLinkEventsFromTheView(t *testing.T) {
	d := &Daemon{metrics: api.NewMetrics(), hub: api.NewHub(16, 4, time.Now), q: newQueue()}
	done := make(chan struct{})
	go func() { defer close(done); d.q.run() }()
	evs, stop, err := d.hub.Subscribe(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	addr := netip.MustParseAddr("10.0.0.7")
	views := []*switcher.View{
		{Status: switcher.Status{State: switcher.StateConnected, Active: "home", PLMN: "26201", PDPUp: true, Addrs: []netip.Addr{addr}}},
		{Status: switcher.Status{State: switcher.StateSwitching, Active: "t-mobile"}},
		{Status: switcher.Status{State: switcher.StateVerifying, Active: "t-mobile"}},
		{Status: switcher.Status{State: switcher.StateConnected, Active: "t-mobile", PLMN: "26202", PDPUp: true, Addrs: []netip.Addr{addr}}},
	}
	for _, v := range views {
		d.onView(v)
	}
	d.q.close()
	<-done
	var ups []bool
	for _, e := range drain(evs) {
		var l api.Link
		if e.Type != api.EventLink || json.Unmarshal(e.Data, &l) != nil {
			t.Fatalf("event %+v", e)
		}
		ups = append(ups, l.Up)
	}
	if fmt.Sprint(ups) != "[true false true]" {
		t.Fatalf("link events %v (one per change)", ups)
	}
	if lc := linkChanged(views[3], true, "verified"); lc.Profile != "t-mobile" || lc.PLMN != "26202" || lc.IP != "10.0.0.7" {
		t.Fatalf("the fleet's link event %+v", lc)
	}
}

// The pin event of an unpin goes out when a view shows the pin gone, not
// when the unpin is requested (it is queued for the switcher's next step).
func TestUnpinEventFromTheView(t *testing.T) {
	d := &Daemon{metrics: api.NewMetrics(), hub: api.NewHub(16, 4, time.Now), q: newQueue()}
	done := make(chan struct{})
	go func() { defer close(done); d.q.run() }()
	evs, stop, err := d.hub.Subscribe(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	pinned := switcher.Status{State: switcher.StateHeld, Active: "home", Pin: &switcher.Pin{Profile: "home"}}
	d.onView(&switcher.View{Status: pinned})
	d.onView(&switcher.View{Status: pinned})
	d.onView(&switcher.View{Status: switcher.Status{State: switcher.StateConnected, Active: "home"}})
	d.q.close()
	<-done
	var pins []string
	for _, e := range drain(evs) {
		if e.Type == api.EventPin {
			pins = append(pins, string(e.Data))
		}
	}
	if fmt.Sprint(pins) != "[null]" {
		t.Fatalf("pin events %v, want one null when the view showed the pin gone", pins)
	}
}

// drain takes what the hub delivered (Publish delivers synchronously, so
// after the queue has run everything is there).
func drain(evs <-chan api.Event) []api.Event {
	var out []api.Event
	for {
		select {
		case e := <-evs:
			out = append(out, e)
		default:
			return out
		}
	}
}
