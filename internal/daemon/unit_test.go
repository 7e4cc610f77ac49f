package daemon

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
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

type rwc struct {
	io.Reader
	io.Writer
}

func (rwc) Close() error { return nil }

func TestWireTapTimesCommands(t *testing.T) {
	m := api.NewMetrics()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	tap := newWireTap(rwc{Reader: a, Writer: io.Discard}, m)
	go func() {
		b.Write([]byte("\r\n+CSQ: 20,99\r\n\r\nOK\r\n"))
		b.Write([]byte("\r\n+CME ERROR: 10\r\n"))
		b.Write([]byte("+CEREG: 1\r\n")) // a URC with no command pending
	}()
	tap.Write([]byte("AT+CSQ\r"))
	buf := make([]byte, 64)
	read := func(want string) {
		var acc strings.Builder
		for !strings.Contains(acc.String(), want) {
			n, err := tap.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			acc.Write(buf[:n])
		}
	}
	read("OK")
	tap.Write([]byte("AT+CIMI\r"))
	read("ERROR: 10")
	read("+CEREG: 1")
	tap.Write([]byte("AT+COPS?\r"))
	tap.Write([]byte("AT\r")) // the previous one never answered
	var out strings.Builder
	if err := m.Expose(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`command="+CSQ"`, `command="+CIMI"`, `command="+COPS?"`, `kind="cme"`, `kind="timeout"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, out.String())
		}
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
