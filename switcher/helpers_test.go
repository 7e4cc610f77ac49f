package switcher_test

import (
	"context"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
	"github.com/imsid/imsid/switcher/switchertest"
)

var t0 = time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)

func loadCfg(t testing.TB, file string, edit ...func(string) string) *profiles.Config {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, e := range edit {
		s = e(s)
	}
	cfg, err := profiles.Parse(file, []byte(s))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// rig is a switcher wired to fakes.
type rig struct {
	t      testing.TB
	cfg    *profiles.Config
	m      *switchertest.Modem
	clk    *switchertest.Clock
	probe  *switchertest.Prober
	jour   *switchertest.Journal
	threat *switchertest.Threat
	usage  *switchertest.Usage
	s      *switcher.Switcher
	lost   int
}

func newRig(t testing.TB, cfg *profiles.Config, start string, opts ...switcher.Option) *rig {
	t.Helper()
	r := &rig{t: t, cfg: cfg, m: switchertest.NewModem(cfg, start), clk: switchertest.NewClock(t0),
		probe: &switchertest.Prober{}, jour: &switchertest.Journal{}, threat: &switchertest.Threat{}, usage: &switchertest.Usage{}}
	base := []switcher.Option{switcher.WithClock(r.clk), switcher.WithProber(r.probe), switcher.WithJournal(r.jour),
		switcher.WithThreat(r.threat), switcher.WithUsage(r.usage), switcher.WithOnModemLost(func() { r.lost++ })}
	s, err := switcher.New(cfg, r.m, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	r.s = s
	t.Cleanup(func() { s.Close() })
	return r
}

// tick advances the clock by d and runs one tick.
func (r *rig) tick(d time.Duration) switcher.Status {
	r.t.Helper()
	r.clk.Advance(d)
	if err := r.s.Tick(context.Background()); err != nil {
		r.t.Fatalf("tick: %v", err)
	}
	return r.s.Status()
}

// run ticks every d for total.
func (r *rig) run(d, total time.Duration) switcher.Status {
	r.t.Helper()
	var st switcher.Status
	for el := time.Duration(0); el < total; el += d {
		st = r.tick(d)
	}
	return st
}

// up brings the rig to connected.
func (r *rig) up() {
	r.t.Helper()
	for range 5 {
		if st := r.tick(time.Second); st.State == switcher.StateConnected || st.State == switcher.StateHeld {
			return
		}
	}
	r.t.Fatalf("not connected: %+v", r.s.Status())
}

func (r *rig) decisions() []switcher.Decision { return r.s.Decisions(0, 0) }

func (r *rig) lastOf(kind switcher.Kind) (switcher.Decision, bool) {
	ds := r.decisions()
	for i := len(ds) - 1; i >= 0; i-- {
		if ds[i].Kind == kind {
			return ds[i], true
		}
	}
	return switcher.Decision{}, false
}

func replace(s, old, new string) string { return strings.Replace(s, old, new, 1) }

// capUsage reports every profile over its cap once over is set (home only).
type capUsage struct{ over atomic.Bool }

func (u *capUsage) Report(p *profiles.Profile, _ time.Time) profiles.Report {
	if p.Name == "home" && u.over.Load() {
		return profiles.Report{OverCap: true, Cap: 500_000_000}
	}
	return profiles.Report{}
}
