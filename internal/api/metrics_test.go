package api

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestMetricsExposition(t *testing.T) {
	m := NewMetrics("starting", "connected", "switching")
	s, _ := newTestServer(t, newFake(), func(c *Config) { c.Metrics = m })
	if s.Metrics() != m {
		t.Fatal("Metrics() is not the configured one")
	}
	m.SetSignal(Ptr(-60.0), Ptr(-88.0), Ptr(-9.0), nil)
	m.SetState("connected")
	m.SetState("switching")
	m.IncSwitch("soft", "better_profile")
	m.IncSwitch("soft", "better_profile")
	m.IncSwitch("manual", "manual")
	m.SetThreatScores(map[string]float64{"device": 1, "plmn:26201": 3.5})
	m.SetThreatScores(map[string]float64{"plmn:26201": 4, "plmn:26202": 1, "cell:26201/5A29C0B": 2, "cell:26201/1F": 1})
	m.ObserveProbe(120*time.Millisecond, true)
	m.ObserveProbe(5*time.Second, false)
	m.ObserveATCommand("AT+COPS=1,2,\"26201\"", 2*time.Second, "")
	m.ObserveATCommand("AT+CSIM=14,\"00A4040007A0000000871002\"", 50*time.Millisecond, "cme")
	m.SetOutboxDepth(17)
	m.AddOutboxDropped(3)
	do(s.LocalHandler(), "GET", "/v1/status", "")

	rec := do(s.LocalHandler(), "GET", "/metrics", "")
	if rec.Code != 200 {
		t.Fatal(rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"imsid_signal_rssi_dbm -60",
		"imsid_signal_rsrp_dbm -88",
		"imsid_signal_rsrq_db -9",
		`imsid_state{state="connected"} 0`,
		`imsid_state{state="starting"} 0`,
		`imsid_state{state="switching"} 1`,
		`imsid_switches_total{reason="better_profile",trigger="soft"} 2`,
		`imsid_switches_total{reason="manual",trigger="manual"} 1`,
		`imsid_threat_score{scope="plmn"} 4`,
		`imsid_threat_score{scope="cell"} 2`,
		`imsid_probe_duration_seconds_count{result="ok"} 1`,
		`imsid_probe_duration_seconds_bucket{result="fail",le="5"} 1`,
		`imsid_at_command_duration_seconds_count{command="+COPS="} 1`,
		`imsid_at_command_errors_total{command="+CSIM=",kind="cme"} 1`,
		"imsid_outbox_depth 17",
		"imsid_outbox_dropped_total 3",
		`imsid_api_requests_total{code="200",route="GET /v1/status"} 1`,
		`imsid_api_request_duration_seconds_count{route="GET /v1/status"} 1`,
		"imsid_api_sse_clients 0",
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	for _, bad := range []string{`scope="device"`, "A0000000871002", "26201\\\"", "imsid_signal_sinr_db", "NaN", "5A29C0B"} {
		if strings.Contains(body, bad) {
			t.Errorf("exposition contains %q", bad)
		}
	}
}

func TestMetricsPrivateRegistry(t *testing.T) {
	// Two instances in one process (tests, a reload) must not collide.
	a, b := NewMetrics(), NewMetrics()
	a.SetOutboxDepth(1)
	b.SetOutboxDepth(2)
	var ab, bb strings.Builder
	if err := a.Expose(&ab); err != nil {
		t.Fatal(err)
	}
	if err := b.Expose(&bb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(ab.String(), "imsid_outbox_depth 1\n") || !strings.Contains(bb.String(), "imsid_outbox_depth 2\n") {
		t.Fatalf("shared state:\n%s\n%s", ab.String(), bb.String())
	}
}

func TestATCommandLabel(t *testing.T) {
	for in, want := range map[string]string{
		"AT+CSQ":                       "+CSQ",
		"at+creg?":                     "+CREG?",
		"AT+COPS=?":                    "+COPS=?",
		"AT+COPS=1,2,\"26201\"":        "+COPS=",
		"AT+QENG=\"servingcell\"":      "+QENG=",
		"AT+CSIM=10,\"A0A4000002\"":    "+CSIM=",
		"ATI":                          "I",
		"AT":                           "other",
		"":                             "other",
		"AT^SYSCFGEX?":                 "^SYSCFGEX?",
		"AT$QCRMCALL=1,1":              "$QCRMCALL=",
		"AT+\x00\xff\"{}":              "+",
		"AT" + strings.Repeat("X", 99): strings.Repeat("X", 16),
	} {
		if got := ATCommandLabel(in); got != want {
			t.Errorf("ATCommandLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzATCommandLabel(f *testing.F) {
	f.Add("AT+COPS=1,2,\"26201\"")
	f.Add("AT+CSIM=?")
	f.Fuzz(func(t *testing.T, s string) {
		l := ATCommandLabel(s)
		if len(l) > 18 || l == "" || strings.ContainsAny(l, "\"\\\n,") {
			t.Fatalf("label %q from %q", l, s)
		}
	})
}

func TestHubClosed(t *testing.T) {
	h := NewHub(4, 4, nil)
	ch, cancel, err := h.Subscribe(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	h.Close()
	h.Close()
	if _, ok := <-ch; ok {
		t.Fatal("channel open after Close")
	}
	if _, err := h.Publish("x", 1); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, _, err := h.Subscribe(t.Context(), 0); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
	if _, err := NewHub(1, 1, nil).Publish("x", func() {}); err == nil {
		t.Fatal("unmarshalable data published")
	}
	cancel() // after Close: a no-op
}

// TestExpositionPromtool lints the exposition, with every kind of family
// and label values that need escaping, with promtool (Debian package
// prometheus; .ci/run installs it and sets IMSID_PROMTOOL_REQUIRED).
func TestExpositionPromtool(t *testing.T) {
	m := NewMetrics("starting", "connected")
	m.SetState("connected")
	m.SetSignal(Ptr(-60.0), nil, Ptr(-9.5), nil)
	m.IncSwitch("soft", "better_profile")
	m.SetThreatScores(map[string]float64{"device": 1, "cell:26201/1F": 2.5})
	m.ObserveProbe(120*time.Millisecond, true)
	m.ObserveATCommand("AT+CSQ", 40*time.Millisecond, "timeout")
	m.AddWriteDrop(DropDecision)
	m.Collect("imsid_test_escaped", "A label value with \\ and \" and a\nnewline.", false, []string{"profile"},
		func() []Sample {
			return []Sample{{Labels: []string{"we\"ird\\name\nx"}, Value: 1}, {Labels: []string{"nan"}, Value: math.NaN()}}
		})
	var b strings.Builder
	if err := m.Expose(&b); err != nil {
		t.Fatal(err)
	}
	body := b.String()
	for _, want := range []string{
		`imsid_test_escaped{profile="we\"ird\\name\nx"} 1`,
		"# HELP imsid_test_escaped A label value with \\\\ and \" and a\\nnewline.\n",
		`imsid_probe_duration_seconds_bucket{result="ok",le="0.1"} 0`,
		`imsid_probe_duration_seconds_bucket{result="ok",le="0.25"} 1`,
		`imsid_probe_duration_seconds_bucket{result="ok",le="+Inf"} 1`,
		`imsid_probe_duration_seconds_sum{result="ok"} 0.12`,
		`imsid_threat_score{scope="cell"} 2.5`,
		`imsid_threat_score{scope="device"} 1`,
		"imsid_signal_rsrq_db -9.5\n",
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	if strings.Contains(body, "NaN") || strings.Contains(body, `profile="nan"`) {
		t.Error("a NaN value was written; unknown values must be absent")
	}
	promtoolCheck(t, []byte(body))
}
