package datalink

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/hooks"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/switcher"
)

type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	c  chan time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, waiter{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			w.c <- c.now
		} else {
			keep = append(keep, w)
		}
	}
	c.waiters = keep
}

type fakeModem struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (f *fakeModem) DataCall(_ context.Context, cid int, up bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, map[bool]string{true: "up", false: "down"}[up]+":"+string(rune('0'+cid)))
	return f.err
}

func (f *fakeModem) n() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.calls) }

// recorder is a hook (or DHCP client) that appends its event and argv to a log.
func recorder(t *testing.T, dir, name, log string, exit int) string {
	t.Helper()
	p := filepath.Join(dir, name)
	body := "#!/bin/sh\necho \"$IMSID_EVENT $IMSID_PROFILE $IMSID_RESULT $IMSID_INTERFACE $*\" >> " + log + "\nexit " + string(rune('0'+exit)) + "\n"
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func readLog(t *testing.T, p string) []string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func flush(t *testing.T, m *Manager) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func registered(state switcher.State, pdp bool) switcher.Status {
	return switcher.Status{State: state, Active: "home", Registered: true, PLMN: "26201", PDPUp: pdp}
}

func TestIMSIDOwnerDialsAndRenews(t *testing.T) {
	dir, logf := t.TempDir(), filepath.Join(t.TempDir(), "log")
	dhcp := recorder(t, t.TempDir(), "dhcp", logf, 0)
	recorder(t, dir, "10-rec", logf, 0)
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	fm := &fakeModem{}
	m := New(Options{
		Link: profiles.Link{Owner: profiles.LinkOwnerIMSID, Interface: "wwan0", BindProbes: true, DataCall: true, Renew: profiles.RenewDHCP,
			DHCPCommand: []string{dhcp, "-i", "{iface}"}, HooksDir: dir, HookTimeout: profiles.Duration(10 * time.Second)},
		Modem: func() DataCaller { return fm },
		Addrs: func(string) ([]netip.Prefix, error) {
			return []netip.Prefix{netip.MustParsePrefix("10.1.0.50/24")}, nil
		},
		Clock: clk,
	})
	defer m.Close()
	if !m.Status().Pending {
		t.Fatal("no first bring-up due")
	}
	// Not registered yet: nothing happens.
	m.OnTick(switcher.Status{State: switcher.StateRegistering})
	flush(t, m)
	if fm.n() != 0 {
		t.Fatalf("dialled before registration: %v", fm.calls)
	}
	// Registered, PDP up: data call, then the DHCP client with {iface}.
	m.OnTick(registered(switcher.StateRegistering, true))
	flush(t, m)
	if fm.n() != 1 || fm.calls[0] != "up:1" {
		t.Fatalf("calls %v", fm.calls)
	}
	st := m.Status()
	if st.Pending || st.LastBringUp == nil || !st.LastBringUp.OK || st.LastBringUp.Trigger != "start" {
		t.Fatalf("status %+v %+v", st, st.LastBringUp)
	}
	if len(st.Addresses) != 1 || st.Addresses[0] != "10.1.0.50/24" || st.Owner != "imsid" || !st.Bound {
		t.Errorf("status %+v", st)
	}

	// A switch: switch-start, re-dial and renew once registered, switch-end, link-up.
	m.OnDecision(switcher.Decision{Kind: switcher.KindSwitch, From: "home", To: "roam"})
	m.OnTransition(switcher.StateConnected, switcher.StateSwitching, switcher.EvSwitch)
	m.OnTransition(switcher.StateSwitching, switcher.StateVerifying, switcher.EvSwitched)
	m.OnTick(switcher.Status{State: switcher.StateVerifying, Active: "roam"})
	flush(t, m)
	if fm.n() != 1 {
		t.Fatalf("dialled before the new registration: %v", fm.calls)
	}
	m.OnTick(switcher.Status{State: switcher.StateVerifying, Active: "roam", Registered: true, PDPUp: true})
	m.OnTransition(switcher.StateVerifying, switcher.StateConnected, switcher.EvVerified)
	flush(t, m)
	if fm.n() != 2 {
		t.Fatalf("not re-dialled after the switch: %v", fm.calls)
	}
	got := readLog(t, logf)
	want := []string{
		"link-renew home  wwan0 -i wwan0",
		"switch-start home  wwan0 ",
		"link-renew roam  wwan0 -i wwan0",
		"switch-end roam verified wwan0 ",
		"link-up roam  wwan0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("hook log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if h := m.Status().LastHook; h == nil || h.Event != "link-up" || h.Result != "ok" {
		t.Errorf("last hook %+v", h)
	}
}

func TestExternalOwnerReconnectsAndRetries(t *testing.T) {
	dir, logf := t.TempDir(), filepath.Join(t.TempDir(), "log")
	recorder(t, dir, "10-fail", logf, 1)
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	fm := &fakeModem{}
	m := New(Options{
		Link:       profiles.Link{Owner: profiles.LinkOwnerExternal, Interface: "wwan0", HooksDir: dir, HookTimeout: profiles.Duration(10 * time.Second)},
		Modem:      func() DataCaller { return fm },
		Addrs:      func(string) ([]netip.Prefix, error) { return nil, nil },
		Clock:      clk,
		RetryEvery: 5 * time.Second,
		Attempts:   2,
	})
	defer m.Close()
	if m.Status().Pending {
		t.Fatal("external owner: nothing due at start")
	}
	m.OnTransition(switcher.StateRecovering, switcher.StateRegistering, switcher.EvModemOK)
	// Registered, no PDP address of its own: enough for the owner to reconnect.
	m.OnTick(registered(switcher.StateRegistering, false))
	flush(t, m)
	st := m.Status()
	if st.LastBringUp == nil || st.LastBringUp.OK || !strings.Contains(st.LastBringUp.Detail, "10-fail") {
		t.Fatalf("bring-up %+v", st.LastBringUp)
	}
	if !st.Pending || st.HookFails != 1 || st.LastHook.Result != "failed" || st.LastHook.ExitCode != 1 {
		t.Fatalf("status %+v %+v", st, st.LastHook)
	}
	// The retry waits for the clock.
	m.OnTick(registered(switcher.StateRegistering, false))
	flush(t, m)
	if n := len(readLog(t, logf)); n != 1 {
		t.Fatalf("retried before RetryEvery: %d runs", n)
	}
	clk.Advance(5 * time.Second)
	flush(t, m)
	if n := len(readLog(t, logf)); n != 2 {
		t.Fatalf("%d runs after RetryEvery, want 2", n)
	}
	if st := m.Status(); st.Pending || st.LastBringUp.Attempt != 2 {
		t.Errorf("gave up? %+v", st.LastBringUp)
	}
	if fm.n() != 0 {
		t.Errorf("external owner sent a data call: %v", fm.calls)
	}
	for _, l := range readLog(t, logf) {
		if !strings.HasPrefix(l, "link-reconnect home") {
			t.Errorf("hook run %q", l)
		}
	}
}

func TestWaitingSaysWhy(t *testing.T) {
	m := New(Options{Link: profiles.Link{Owner: profiles.LinkOwnerExternal, Interface: "wwan0"}, Clock: &fakeClock{},
		Addrs: func(string) ([]netip.Prefix, error) { return nil, nil }})
	defer m.Close()
	st := registered(switcher.StateRegistering, true)
	st.LastProbe = &switcher.ProbeResult{OK: false, Detail: "tcp 10.0.0.1:80: timeout"}
	m.OnTick(st)
	flush(t, m)
	want := "registered, waiting for the data session owned by external on wwan0: probes fail: tcp 10.0.0.1:80: timeout"
	if got := m.Status().Waiting; got != want {
		t.Errorf("waiting = %q\nwant      %q", got, want)
	}
	m.OnTick(registered(switcher.StateConnected, true))
	flush(t, m)
	if got := m.Status().Waiting; got != "" {
		t.Errorf("still waiting when connected: %q", got)
	}
	if got := Waiting("imsid", "", switcher.Status{Registered: true}); got != "registered, waiting for the PDP context (data session owned by imsid)" {
		t.Errorf("imsid: %q", got)
	}
}

// Close ends a hook that hangs (its process group is killed with the
// context) and is idempotent; events after Close are ignored.
func TestCloseStopsAHangingHook(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hang"), []byte("#!/bin/sh\nsleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := New(Options{Link: profiles.Link{Owner: profiles.LinkOwnerExternal, HooksDir: dir},
		Hooks: &hooks.Runner{Dir: dir, Timeout: time.Minute}, Clock: &fakeClock{}})
	m.OnThreat("imsi_catcher", "critical")
	start := time.Now()
	m.Close()
	m.Close()
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Close took %s", took)
	}
	m.OnPin("home", true)
	if err := m.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
}

// The queue never blocks nor grows without bound.
func TestQueueBounded(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hang"), []byte("#!/bin/sh\nsleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := New(Options{Link: profiles.Link{Owner: profiles.LinkOwnerExternal, HooksDir: dir},
		Hooks: &hooks.Runner{Dir: dir, Timeout: time.Minute}, Clock: &fakeClock{}})
	defer m.Close()
	for range 10 * maxQueue {
		m.OnPin("home", true)
	}
	m.mu.Lock()
	n := len(m.queue)
	m.mu.Unlock()
	if n > maxQueue {
		t.Errorf("queue holds %d", n)
	}
	if m.Status().Dropped == 0 {
		t.Error("nothing dropped")
	}
}

// A bring-up made on the registration a switch had not yet replaced is
// done again once the modem registers on the new network.
func TestBringUpAgainOnNewNetwork(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	fm := &fakeModem{}
	m := New(Options{Link: profiles.Link{Owner: profiles.LinkOwnerIMSID, Interface: "wwan0", DataCall: true},
		Modem: func() DataCaller { return fm }, Addrs: func(string) ([]netip.Prefix, error) { return nil, nil }, Clock: clk})
	defer m.Close()
	m.OnTick(registered(switcher.StateConnected, true)) // 26201: the first bring-up
	m.OnTransition(switcher.StateSwitching, switcher.StateVerifying, switcher.EvSwitched)
	m.OnTick(registered(switcher.StateVerifying, true)) // stale: still 26201
	flush(t, m)
	st := registered(switcher.StateVerifying, true)
	st.PLMN = "23415"
	m.OnTick(st)
	m.OnTick(st)
	flush(t, m)
	if fm.n() != 3 {
		t.Fatalf("data calls %v, want 3 (start, after the switch, on the new network)", fm.calls)
	}
	if b := m.Status().LastBringUp; b == nil || b.Trigger != "network_changed" || !b.OK {
		t.Errorf("last bring-up %+v", b)
	}
}

// Isolation (registered outside the allowlist, nowhere to go) takes the
// session down: the data call is released and the hooks told; when it
// ends the link is brought up again.
func TestIsolation(t *testing.T) {
	dir, logf := t.TempDir(), filepath.Join(t.TempDir(), "log")
	recorder(t, dir, "10-rec", logf, 0)
	clk := &fakeClock{now: time.Unix(1e9, 0)}
	fm := &fakeModem{}
	m := New(Options{Link: profiles.Link{Owner: profiles.LinkOwnerIMSID, Interface: "wwan0", DataCall: true, HooksDir: dir,
		HookTimeout: profiles.Duration(10 * time.Second)},
		Modem: func() DataCaller { return fm }, Addrs: func(string) ([]netip.Prefix, error) { return nil, nil }, Clock: clk})
	defer m.Close()
	m.OnTick(registered(switcher.StateConnected, true))
	flush(t, m)
	iso := registered(switcher.StateConnected, true)
	iso.Isolated = true
	m.OnTick(iso)
	flush(t, m)
	m.OnTick(registered(switcher.StateConnected, true))
	flush(t, m)
	if got := strings.Join(fm.calls, " "); got != "up:1 down:1 up:1" {
		t.Errorf("data calls %q, want up, down while isolated, up again", got)
	}
	got := strings.Join(readLog(t, logf), "\n")
	if !strings.Contains(got, "link-isolate home on wwan0") || !strings.Contains(got, "link-isolate home off wwan0") {
		t.Errorf("hooks:\n%s", got)
	}
	if b := m.Status().LastBringUp; b == nil || b.Trigger != "isolation_ended" || !b.OK {
		t.Errorf("bring-up %+v", b)
	}
}

// A spontaneous modem reset keeps the port: the switcher sees the SIM come
// ready again (or service lost and found). Quectel's +QNETDEVCTL does not
// survive it, so the data call is sent again once registered.
func TestRedialAfterSpontaneousReset(t *testing.T) {
	fm := &fakeModem{}
	m := New(Options{Link: profiles.Link{Owner: profiles.LinkOwnerIMSID, Interface: "wwan0", DataCall: true},
		Modem: func() DataCaller { return fm }, Addrs: func(string) ([]netip.Prefix, error) { return nil, nil }, Clock: &fakeClock{}})
	defer m.Close()
	m.OnTransition(switcher.StateProbing, switcher.StateRegistering, switcher.EvSIMReady) // boot: the first bring-up is due anyway
	m.OnTick(registered(switcher.StateConnected, true))
	flush(t, m)
	for i, ev := range []switcher.Event{switcher.EvSIMReady, switcher.EvServiceLost} {
		m.OnTransition(switcher.StateConnected, switcher.StateRegistering, ev)
		m.OnTick(switcher.Status{State: switcher.StateRegistering})
		flush(t, m)
		if fm.n() != i+1 {
			t.Fatalf("%s: dialled before registration: %v", ev, fm.calls)
		}
		m.OnTick(registered(switcher.StateRegistering, true))
		flush(t, m)
		if fm.n() != i+2 {
			t.Fatalf("%s: not re-dialled: %v", ev, fm.calls)
		}
	}
}
