package threat

import (
	"testing"
	"time"

	"github.com/imsid/imsid/modem"
)

func jamPoll(rsrp, sinr, rsrq float64) Observation {
	o := poll(cellA, rsrp, sinr)
	o.Serving.Signal.RSRQ = db(rsrq)
	return o
}

func lostOn(profile string, rsrp float64) Observation {
	return Observation{Profile: profile, Registration: &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegSearching},
		Signal: &modem.Signal{RSRP: dbm(rsrp)}}
}

func twoProfiles(c *Config) {} // testConfig already has "home" and "roam"

func TestD8(t *testing.T) {
	jammer := every(0, 30*time.Second, 3, func(int) Observation { return jamPoll(-88, -8, -19) })
	noSwitch := func(t *testing.T, rs []Result) {
		r := rs[len(rs)-1].Response
		if r.SwitchAllowed() || !r.Actions.Has(ActLocalAlarm|ActAlert) {
			t.Errorf("response = %v, want switching suspended and a local alarm", r.Actions)
		}
	}
	runCases(t, []detectorCase{
		{name: "vendor URC JAMMED for 10 s: High, switching suspended", steps: seq(
			one(0, Observation{Events: []Event{{Kind: EventJamming, Jammed: true}}}), one(10*time.Second, poll(cellA, -88, 12))),
			rule: "D8a", want: SeverityHigh, check: noSwitch},
		{name: "FP JAMMED for 5 s then OPERATIVE", steps: seq(
			one(0, Observation{Events: []Event{{Kind: EventJamming, Jammed: true}}}),
			one(5*time.Second, Observation{Events: []Event{{Kind: EventJamming, Jammed: false}}}),
			one(30*time.Second, poll(cellA, -88, 12))), rule: "D8a", want: never},
		{name: "wideband_jammer: RSRP steady, SINR/RSRQ collapse for 3 polls", steps: jammer, rule: "D8b", want: SeverityHigh, check: noSwitch},
		// Seen on home, but a device-wide finding: no level for home or its
		// network, so scores do not move the device off the jammed one
		// (make demo switched away and back after its jamming hour).
		{name: "wideband_jammer counts against the device, not the profile or network", steps: jammer, rule: "D8b", want: SeverityHigh,
			check: func(t *testing.T, rs []Result) {
				r := rs[len(rs)-1]
				if len(r.Profiles) != 0 || len(r.PLMNs) != 0 || r.Overall.Level == SeverityNone {
					t.Errorf("profiles %+v, plmns %+v, overall %v: want the device only", r.Profiles, r.PLMNs, r.Overall.Level)
				}
			}},
		{name: "FP 2 bad polls", steps: jammer[:2], rule: "D8b", want: never},
		{name: "FP weak signal is coverage, not jamming", steps: every(0, 30*time.Second, 4, func(int) Observation { return jamPoll(-112, -8, -19) }),
			rule: "D8b", want: never},
		{name: "wideband_jammer before any baseline: reference from recent polls", cold: true, steps: seq(
			every(0, 30*time.Second, 4, func(int) Observation { return jamPoll(-88, 15, -9) }),
			every(2*time.Minute, 30*time.Second, 3, func(int) Observation { return jamPoll(-88, -8, -19) })),
			rule: "D8b", want: SeverityHigh},
		{name: "FP busy_hour_congestion: the baseline already has low SINR", cfg: nil, steps: nil, rule: "D8b", want: never,
			check: func(t *testing.T, _ []Result) {
				cfg := testConfig()
				e, err := New(cfg, nil)
				if err != nil {
					t.Fatal(err)
				}
				at := t0
				for i := 0; i < 120; i++ {
					o := normal(cellA)
					o.Serving.Signal.SINR = db(float64(i%4) - 3) // -3..0: a congested site
					o.At = at
					if _, err := e.Observe(o); err != nil {
						t.Fatal(err)
					}
					at = at.Add(30 * time.Minute)
				}
				rs := run(t, e, at, every(0, time.Minute, 10, func(int) Observation { return jamPoll(-90, -2, -16) }))
				if got := byRule(findings(rs), "D8b"); len(got) > 0 {
					t.Fatalf("D8b on busy-hour congestion: %+v", got[0])
				}
				for _, r := range rs {
					if r.Overall.Level > SeverityLow {
						t.Fatalf("level %v on congestion", r.Overall.Level)
					}
				}
			}},
		{name: "blackout on every profile with the signal present: High", cfg: twoProfiles, steps: seq(
			one(0, lostOn("home", -88)), one(time.Minute, lostOn("roam", -88))), rule: "D8c", want: SeverityHigh, check: noSwitch},
		{name: "FP blackout with no signal is a coverage loss", steps: seq(
			one(0, lostOn("home", -120)), one(time.Minute, lostOn("roam", -120))), rule: "D8c", want: never},
		{name: "FP only one profile lost", steps: seq(one(0, lostOn("home", -88)), one(time.Minute, poll(cellA, -88, 12))), rule: "D8c", want: never},
		{name: "noise rise over the site baseline with RSRP steady: Medium", steps: func() []step {
			o := poll(cellA, -92, 12)
			o.Serving.Signal.RSSI = dbm(-50)
			return one(0, o)
		}(), cfg: nil, rule: "D8d", want: never /* no RSSI in the warm-up baseline: rule stays off */},
	})
}

func TestD8NoiseRise(t *testing.T) {
	cfg := testConfig()
	e, err := New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	at := t0
	for i := 0; i < 120; i++ {
		o := normal(cellA)
		o.Serving.Signal.RSSI = dbm(-65) // RSSI−RSRP = 27
		o.At = at
		if _, err := e.Observe(o); err != nil {
			t.Fatal(err)
		}
		at = at.Add(30 * time.Minute)
	}
	o := poll(cellA, -92, 12)
	o.Serving.Signal.RSSI = dbm(-50) // 42: 15 dB of extra interference
	o.At = at
	r, err := e.Observe(o)
	if err != nil {
		t.Fatal(err)
	}
	if got := byRule(r.Findings, "D8d"); len(got) != 1 || got[0].Severity != SeverityMedium {
		t.Fatalf("D8d = %+v", r.Findings)
	}
}

// TestJammingSuspendsSwitchingOverLeave: jamming also causes rejects and
// losses that would ask to leave; suspension wins.
func TestJammingSuspendsSwitchingOverLeave(t *testing.T) {
	e, start := warmEngine(t, testConfig())
	rs := run(t, e, start, seq(
		every(0, 30*time.Second, 3, func(int) Observation { return jamPoll(-88, -8, -19) }),
		one(2*time.Minute, reject(7, &cellA))))
	r := rs[len(rs)-1].Response
	if !r.Actions.Has(ActLeaveNow) || r.SwitchAllowed() {
		t.Fatalf("actions = %v: want leave_now present but switching suspended", r.Actions)
	}
}

func detach() Observation {
	return Observation{Profile: "home", Events: []Event{{Kind: EventNetworkDetach}}, Signal: &modem.Signal{RSRP: dbm(-90)}}
}

// captureLoop is one capture_release_loop iteration from off.
func captureLoop(off time.Duration) []step {
	return seq(
		one(off, poll(cellX, -58, 20)),
		one(off+12*time.Second, Observation{Profile: "home", Registration: &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegNotRegistered}}),
		one(off+14*time.Second, detach()),
		one(off+30*time.Second, normal(cellA)),
	)
}

func TestD9(t *testing.T) {
	runCases(t, []detectorCase{
		{name: "3 network detaches in 10 min: Medium", steps: every(0, 3*time.Minute, 3, func(int) Observation { return detach() }),
			rule: "D9a", want: SeverityMedium, score: 1.5},
		{name: "6 losses in an hour", steps: every(0, 9*time.Minute, 6, func(int) Observation { return detach() }),
			rule: "D9a", want: SeverityMedium},
		// One outage, as a modem reports it: the PDN deactivated, the
		// network detached and the registration lost, each on its own poll
		// (each URC wakes one), then service back. That is one loss.
		{name: "FP one outage read on three polls is one loss, not churn", steps: seq(
			one(0, normal(cellA)),
			one(10*time.Second, Observation{Profile: "home", Events: []Event{{Kind: EventPDNDeact}}, Signal: &modem.Signal{RSRP: dbm(-90)}}),
			one(11*time.Second, detach()),
			one(12*time.Second, Observation{Profile: "home", Registration: &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegSearching}}),
			one(40*time.Second, normal(cellA)),
		), rule: "D9a", want: never},
		{name: "three outages, each read on three polls, are churn", steps: seq(
			one(0, normal(cellA)),
			one(10*time.Second, detach()), one(11*time.Second, Observation{Profile: "home", Registration: &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegSearching}}),
			one(40*time.Second, normal(cellA)),
			one(70*time.Second, detach()), one(71*time.Second, Observation{Profile: "home", Registration: &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegSearching}}),
			one(100*time.Second, normal(cellA)),
			one(130*time.Second, detach()), one(131*time.Second, Observation{Profile: "home", Registration: &modem.Registration{Domain: modem.DomainEPS, Status: modem.RegSearching}}),
		), rule: "D9a", want: SeverityMedium},
		{name: "FP one loss on each of three networks is not churn on any", steps: seq(
			one(0, normal(cellA)), one(time.Minute, detach()),
			one(2*time.Minute, normal(cellOther1)), one(3*time.Minute, detach()),
			one(4*time.Minute, normal(cellOther2)), one(5*time.Minute, detach()),
		), rule: "D9a", want: never},
		{name: "FP own ME DETACH (PSM) ignored", steps: every(0, time.Minute, 5, func(int) Observation {
			return Observation{Events: []Event{{Kind: EventMEDetach}}, Signal: &modem.Signal{RSRP: dbm(-90)}}
		}), rule: "D9a", want: never},
		{name: "FP churn at the cell edge", steps: every(0, time.Minute, 5, func(int) Observation {
			o := detach()
			o.Signal.RSRP = dbm(-115)
			return o
		}), rule: "D9a", want: never},
		// Someone moves the modem to the other SIM slot, three times: each
		// card change detaches and re-attaches (a second IMSI, the card not
		// ready for a poll). That is D10's evidence, not churn.
		{name: "FP losses of card changes imsid did not make", steps: every(0, 3*time.Minute, 3, func(i int) Observation {
			o := detach()
			imsi := modem.IMSI("262011234567890")
			if i%2 == 1 {
				imsi = "262019876543210"
			}
			o.SIM = &SIMIdentity{IMSI: imsi, State: modem.SIMReady}
			return o
		}), rule: "D9a", want: never},
		{name: "FP registration losses while the modem reports jamming (D8 explains them)", steps: every(0, 2*time.Minute, 5, func(int) Observation {
			o := detach()
			o.Events = append(o.Events, Event{Kind: EventJamming, Jammed: true})
			return o
		}), rule: "D9a", want: never},
		{name: "FP detaches during our own switches", steps: every(0, time.Minute, 5, func(int) Observation {
			o := detach()
			o.Events = append(o.Events, Event{Kind: EventOwnCFUN})
			return o
		}), rule: "D9a", want: never},
		{name: "capture_release_loop: first loop 2.0 High, X quarantined", steps: captureLoop(0), rule: "D9b", want: SeverityHigh, score: 2,
			check: func(t *testing.T, rs []Result) {
				r := rs[len(rs)-1].Response
				found := false
				for _, q := range r.Quarantine {
					if q.Scope.Kind == ScopeCell && q.Scope.Cell == cellX.key() && q.TTL == time.Hour {
						found = true
					}
				}
				if !found {
					t.Errorf("X not quarantined for 60 m: %+v", r.Quarantine)
				}
				if len(byRule(findings(rs), "D5a")) == 0 {
					t.Error("no D5a on the capturing cell")
				}
			}},
		{name: "capture_release_loop: second loop within the hour 3.0", steps: seq(captureLoop(0), captureLoop(20*time.Minute)),
			rule: "D9b", want: SeverityHigh, score: 3},
		{name: "FP planned_profile_switch: same shape inside our switch", steps: seq(
			one(0, Observation{Events: []Event{{Kind: EventOwnSwitchStarted}}}), captureLoop(time.Second),
			one(40*time.Second, Observation{Events: []Event{{Kind: EventOwnSwitchFinished}}})), rule: "D9b", want: never},
		{name: "FP no return to the baseline cell within 120 s", steps: seq(
			one(0, poll(cellX, -58, 20)),
			one(12*time.Second, Observation{Registration: &modem.Registration{Status: modem.RegNotRegistered}}),
			one(14*time.Second, detach()), one(3*time.Minute, normal(cellA))), rule: "D9b", want: never},
		{name: "FP visit to the unknown cell without a release", steps: seq(one(0, poll(cellX, -58, 20)), one(30*time.Second, normal(cellA))),
			rule: "D9b", want: never},
	})
}

var (
	iccidA = modem.ICCID("89010000000000000011")
	iccidB = modem.ICCID("89010000000000000029")
	iccidZ = modem.ICCID("89999999999999999999")
)

func simObs(iccid modem.ICCID, imsi modem.IMSI, imei string, st modem.SIMState) Observation {
	return Observation{Profile: "home", SIM: &SIMIdentity{ICCID: iccid, IMSI: imsi, IMEI: imei, State: st}}
}

func provisioned(c *Config) { c.Site.ProvisionedICCIDs = []modem.ICCID{iccidA, iccidB} }

func TestD10(t *testing.T) {
	const imei, imei2 = "356938035643809", "356938035640000"
	ok := func(off time.Duration) []step {
		return one(off, simObs(iccidA, "310260000000001", imei, modem.SIMReady))
	}
	runCases(t, []detectorCase{
		{name: "sim_hotplug_new_iccid: unprovisioned ICCID is Critical", cfg: provisioned, steps: seq(ok(0),
			one(time.Minute, Observation{Events: []Event{{Kind: EventSIMRemoved}}}),
			one(2*time.Minute, Observation{Events: []Event{{Kind: EventSIMInserted}}}),
			one(3*time.Minute, simObs(iccidZ, "001010000000009", imei, modem.SIMReady))),
			rule: "D10a", want: SeverityCritical, check: func(t *testing.T, rs []Result) {
				r := rs[len(rs)-1]
				if r.Overall.Level != SeverityCritical || !r.Response.Actions.Has(ActBlockTransactions) {
					t.Errorf("level %v actions %v, want Critical with transactions blocked", r.Overall.Level, r.Response.Actions)
				}
				if len(byRule(findings(rs), "D10c")) != 2 {
					t.Error("hot-plug events not reported")
				}
				for _, f := range findings(rs) {
					for _, e := range f.Evidence {
						if e.Value == string(iccidZ) || e.Value == "001010000000009" {
							t.Errorf("identity in clear in evidence: %+v", f)
						}
					}
				}
			}},
		{name: "FP provisioned ICCID", cfg: provisioned, steps: ok(0), rule: "D10a", want: never},
		{name: "IMEI changed: modem swapped", steps: seq(ok(0), one(time.Hour, simObs(iccidA, "310260000000001", imei2, modem.SIMReady))),
			rule: "D10b", want: SeverityCritical},
		{name: "FP maintenance window covers a SIM and modem swap", cfg: provisioned, steps: seq(ok(0),
			one(time.Minute, Observation{Events: []Event{{Kind: EventMaintenance, Until: t0.Add(100 * 24 * time.Hour)}, {Kind: EventSIMRemoved}}}),
			one(2*time.Minute, simObs(iccidZ, "001010000000009", imei2, modem.SIMReady))),
			rule: "D10c", want: never, check: func(t *testing.T, rs []Result) {
				for _, f := range findings(rs) {
					if f.Detector == D10 {
						t.Errorf("D10 fired inside a maintenance window: %+v", f)
					}
				}
			}},
		{name: "IMSI changed not by us: Medium", steps: seq(ok(0), one(time.Hour, simObs(iccidA, "310260000000002", imei, modem.SIMReady))),
			rule: "D10d", want: SeverityMedium, score: 1.5},
		{name: "FP planned_profile_switch: IMSI changes inside our switch", steps: seq(ok(0),
			one(time.Hour, Observation{Events: []Event{{Kind: EventOwnSwitchStarted}}}),
			one(time.Hour+20*time.Second, simObs(iccidB, "310410000000002", imei, modem.SIMReady)),
			one(time.Hour+30*time.Second, Observation{Events: []Event{{Kind: EventOwnSwitchFinished}}}),
			one(time.Hour+time.Minute, simObs(iccidB, "310410000000002", imei, modem.SIMReady))),
			rule: "D10d", want: never},
		{name: "FP autonomous applet: informational", cfg: func(c *Config) { c.Site.AutonomousApplet = true },
			steps: seq(ok(0), one(time.Hour, simObs(iccidA, "310260000000002", imei, modem.SIMReady))), rule: "D10d", want: SeverityNone},
		{name: "SIM asks for PUK after being ready: High", steps: seq(ok(0), one(time.Minute, simObs("", "", "", modem.SIMPUK))),
			rule: "D10e", want: SeverityHigh, score: 3},
		{name: "FP PIN required at first boot", steps: one(0, simObs("", "", "", modem.SIMPIN)), rule: "D10e", want: never},
	})
}

func TestCriticalLatchesUntilAcknowledged(t *testing.T) {
	cfg := testConfig()
	provisioned(&cfg)
	e, start := warmEngine(t, cfg)
	rs := run(t, e, start, seq(one(0, simObs(iccidZ, "", "", modem.SIMReady)), one(3*time.Hour, Observation{})))
	if rs[1].Overall.Level != SeverityCritical || !rs[1].Response.Actions.Has(ActBlockTransactions) {
		t.Fatalf("critical did not latch: %+v", rs[1].Overall)
	}
	e.Acknowledge(start.Add(3*time.Hour), iccidZ)
	rs = run(t, e, start, seq(one(4*time.Hour, simObs(iccidZ, "", "", modem.SIMReady))))
	if rs[0].Overall.Level != SeverityNone || !rs[0].Response.IsZero() || len(rs[0].Findings) != 0 {
		t.Fatalf("after acknowledge: %+v", rs[0])
	}
}

// TestCaptureBlamesLatestCell: two unknown cells in a row; the release is
// attributed to the one that served last.
func TestCaptureBlamesLatestCell(t *testing.T) {
	e, start := warmEngine(t, testConfig())
	other := cellX
	other.ci++
	rs := run(t, e, start, seq(one(0, poll(other, -60, 20)), captureLoop(40*time.Second)))
	got := byRule(findings(rs), "D9b")
	if len(got) != 1 || got[0].Scope.Cell != cellX.key() {
		t.Fatalf("D9b = %+v, want one finding on X", got)
	}
}
