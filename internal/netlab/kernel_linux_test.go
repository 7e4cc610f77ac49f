package netlab

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/apiclient"
	"github.com/imsid/imsid/internal/daemon"
	"github.com/imsid/imsid/internal/simlink"
	"github.com/imsid/imsid/profiles"
	"github.com/imsid/imsid/simulator"
)

// The carriers of simulator/scenarios/basic.yaml's three networks.
var testCarriers = []Carrier{
	{PLMN: "26201", Subnet: netip.MustParsePrefix("10.201.0.0/24")},
	{PLMN: "23415", Subnet: netip.MustParsePrefix("10.215.0.0/24")},
	{PLMN: "310260", Subnet: netip.MustParsePrefix("10.160.0.0/24")},
}

// childSpec is what the parent tells the child it runs in the gateway
// namespace.
type childSpec struct {
	Name  string `json:"name"`
	Owner string `json:"owner"`
}

const childEnv = "NETLAB_CHILD"

// TestKernelLink runs the daemon with the simulated modem over real kernel
// interfaces, once per link owner: the test builds the namespaces and
// carriers, then runs TestKernelLinkChild inside the gateway namespace
// (a process of its own: a Go program cannot move all its threads into a
// namespace), which asserts. Needs root; elsewhere it skips and says why
// (with IMSID_NETNS_REQUIRED=1, as CI sets it, it fails instead).
func TestKernelLink(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("in the child")
	}
	if testing.Short() {
		t.Skip("kernel-interface test: about a minute of real time (not in -short)")
	}
	if err := Check(); err != nil {
		if os.Getenv("IMSID_NETNS_REQUIRED") == "1" {
			t.Fatalf("the kernel-interface test cannot run: %v", err)
		}
		t.Skipf("kernel-interface test skipped: %v (CI runs it as root: apt-get install -y dnsmasq iproute2 udhcpc)", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, owner := range []string{"imsid", "external"} {
		t.Run(owner, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			name := fmt.Sprintf("imsid%d%s", os.Getpid(), owner[:3])
			start := time.Now()
			lab, err := New(ctx, name, testCarriers, t.Logf)
			if err != nil {
				t.Fatal(err)
			}
			defer lab.Close()
			spec, _ := json.Marshal(childSpec{Name: name, Owner: owner})
			cmd := exec.CommandContext(ctx, "ip", "netns", "exec", lab.GW, exe,
				"-test.run", "^TestKernelLinkChild$", "-test.v", "-test.count=1", "-test.timeout=150s")
			cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
			out, err := cmd.CombinedOutput()
			t.Logf("child (owner %s, %s):\n%s", owner, time.Since(start).Round(time.Millisecond), out)
			if err != nil || !bytes.Contains(out, []byte("--- PASS: TestKernelLinkChild")) {
				t.Fatalf("child failed: %v", err)
			}
		})
	}
}

// TestKernelLinkChild is the gateway: simulator, link driver, daemon with
// probes bound to wwan0. Only run by TestKernelLink.
func TestKernelLinkChild(t *testing.T) {
	raw := os.Getenv(childEnv)
	if raw == "" {
		t.Skip("run by TestKernelLink inside the gateway namespace")
	}
	var spec childSpec
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 140*time.Second)
	defer cancel()
	dir := t.TempDir()
	script, err := filepath.Abs("testdata/udhcpc.script")
	if err != nil {
		t.Fatal(err)
	}
	hookLog := filepath.Join(dir, "hooks.log")
	hooksDir := filepath.Join(dir, "hooks.d")
	if err := os.Mkdir(hooksDir, 0o755); err != nil {
		t.Fatal(err)
	}
	rec := "#!/bin/sh\necho \"$IMSID_EVENT $IMSID_PROFILE $IMSID_RESULT $IMSID_INTERFACE $IMSID_OWNER\" >> " + hookLog + "\n"
	if err := os.WriteFile(filepath.Join(hooksDir, "10-record"), []byte(rec), 0o755); err != nil {
		t.Fatal(err)
	}

	sc, err := simulator.LoadScenario("../../simulator/scenarios/basic.yaml")
	if err != nil {
		t.Fatal(err)
	}
	clk := simulator.NewRealClock(5)
	sim, err := simulator.New(sc, simulator.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	open, stopSim := simlink.PipeOpener(sim)
	defer stopSim()

	lab := Attach(spec.Name, testCarriers)
	drv := &Driver{Lab: lab, NeedCall: spec.Owner == "imsid", Logf: t.Logf}
	dctx, dcancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { dcancel(); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := drv.Run(dctx, sim, 20*time.Millisecond); err != nil {
			t.Errorf("link driver: %v", err)
		}
	}()

	raw2, err := os.ReadFile("testdata/gateway.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := profiles.Parse("gateway.yaml", raw2)
	if err != nil {
		t.Fatal(err)
	}
	cfg.StateDir = dir
	cfg.API.Socket = filepath.Join(dir, "imsid.sock")
	cfg.Link = profiles.Link{Owner: profiles.LinkOwnerIMSID, Interface: Iface, BindProbes: true,
		HooksDir: hooksDir, HookTimeout: profiles.Duration(20 * time.Second), Renew: profiles.RenewNone}
	udhcpc := []string{"udhcpc", "-i", "{iface}", "-n", "-q", "-t", "5", "-T", "1", "-s", script}
	switch spec.Owner {
	case "imsid":
		// An ECM modem: imsid sends the data call and runs the DHCP client.
		cfg.Link.DataCall, cfg.Link.Renew, cfg.Link.DHCPCommand = true, profiles.RenewDHCP, udhcpc
	case "external":
		// The owner is a DHCP client: the shipped example hook asks it to
		// reconnect after each switch; the test brings the first lease, as
		// the owner would at boot.
		cfg.Link.Owner = profiles.LinkOwnerExternal
		ex, err := os.ReadFile("../../examples/hooks/50-udhcpc")
		if err != nil {
			t.Fatal(err)
		}
		hook := strings.Replace(string(ex), "UDHCPC_SCRIPT=/etc/udhcpc/default.script", "UDHCPC_SCRIPT="+script, 1)
		if err := os.WriteFile(filepath.Join(hooksDir, "50-udhcpc"), []byte(hook), 0o755); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for dctx.Err() == nil && !drv.Current().Up {
				time.Sleep(50 * time.Millisecond)
			}
			argv := append([]string(nil), udhcpc...)
			argv[2] = Iface
			if out, err := exec.CommandContext(dctx, argv[0], argv[1:]...).CombinedOutput(); err != nil && dctx.Err() == nil {
				t.Errorf("the owner's first lease: %v\n%s", err, out)
			}
		}()
	}

	logs := &syncBuf{}
	d, err := daemon.New(daemon.Options{Config: cfg, Open: open, Clock: simlink.Clock{C: clk},
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Notifier: nopNotifier{}, PersistEvery: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopDaemon := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- d.Run(runCtx) }()
	defer func() {
		stopDaemon()
		<-done
		if t.Failed() {
			t.Logf("daemon log:\n%s", logs.String())
			b, _ := os.ReadFile(hookLog)
			t.Logf("hook log:\n%s", b)
		}
	}()
	cl, err := apiclient.New(apiclient.Options{Socket: cfg.API.Socket, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()

	t0 := time.Now()
	// connectedOn waits until the daemon is connected on a profile (any
	// but avoid, or exactly want) whose carrier's subnet holds wwan0's
	// address, the default route goes via that carrier, the daemon's
	// bound probes pass after since, and a request bound to wwan0 reaches
	// that carrier.
	connectedOn := func(what, want, avoid string, since time.Time) string {
		t.Helper()
		var last string
		deadline := time.Now().Add(60 * time.Second)
		for {
			st, err := cl.Status(ctx)
			prof := ""
			if err == nil && st.ActiveProfile != nil {
				prof = *st.ActiveProfile
			}
			last = describe(st, err)
			if err == nil && st.State == "connected" && prof != "" && (want == "" || prof == want) && prof != avoid {
				c := testCarriers[profileIndex(prof)]
				addr, aok := ifaceAddrIn(c.Subnet)
				via, rok := defaultVia()
				lp := st.Link.LastProbe
				if aok && rok && via == c.Gateway() && lp != nil && lp.OK && lp.At.After(since) && carrierVia(ctx) == c.PLMN {
					t.Logf("%s after %s: %s on %s, wwan0 %s, default via %s, probes bound: %v",
						what, time.Since(t0).Round(time.Millisecond), prof, c.PLMN, addr, via, st.Link.ProbesBound)
					if !st.Link.ProbesBound || st.Link.Owner != spec.Owner {
						t.Errorf("status link: %+v", st.Link)
					}
					return prof
				}
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				t.Fatalf("%s: not reached in 60s; last: %s", what, last)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// 1. Start: telekom-de, its carrier's lease, probes through wwan0.
	connectedOn("connected at start", "telekom-de", "", time.Time{})

	// 2. An operator switch: the link moves to vodafone-uk's carrier; the
	// address and the default route follow.
	// Status times are on the simulator's clock.
	at := clk.Now()
	if _, err := cl.Switch(ctx, "vodafone-uk", "netlab"); err != nil {
		t.Fatal(err)
	}
	connectedOn("switched", "vodafone-uk", "", at)
	if spec.Owner == "imsid" && !sim.Snapshot().DataCall {
		t.Error("imsid owns the session but the modem has no data call after the switch")
	}

	// 3. A core outage on vodafone-uk: registered, but the carrier drops
	// everything. The bound probes see it through wwan0, and the switcher
	// moves to another profile, whose carrier's address and route follow.
	at, real := clk.Now(), time.Now()
	if err := sim.RunEvent(simulator.Event{Kind: "core_outage", Network: "23415"}); err != nil {
		t.Fatal(err)
	}
	detected := false
	for end := time.Now().Add(30 * time.Second); !detected && time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		st, err := cl.Status(ctx)
		detected = err == nil && (st.Link.ProbeFailures > 0 || (st.Link.LastProbe != nil && !st.Link.LastProbe.OK && st.Link.LastProbe.At.After(at)) ||
			(st.State != "connected" && st.State != ""))
	}
	if !detected {
		t.Fatal("the core outage was not detected through wwan0")
	}
	t.Logf("core outage detected after %s", time.Since(real).Round(time.Millisecond))
	connectedOn("failed over from the core outage", "", "vodafone-uk", at)

	// 4. A spontaneous modem reset (the port stays): registration and, on
	// this ECM modem, the data call are lost. imsid re-dials and renews
	// (owner imsid) or asks the owner to reconnect (owner external).
	if err := sim.RunEvent(simulator.Event{Kind: "reset"}); err != nil {
		t.Fatal(err)
	}
	for end := time.Now().Add(10 * time.Second); drv.Current().Up; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the link stayed up through a modem reset")
		}
	}
	connectedOn("back after a modem reset", "", "", clk.Now())
	if spec.Owner == "imsid" && !sim.Snapshot().DataCall {
		t.Error("no data call after the modem reset")
	}

	b, _ := os.ReadFile(hookLog)
	hl := string(b)
	for _, want := range []string{"switch-start", "switch-end vodafone-uk verified wwan0 " + spec.Owner, "link-up"} {
		if !strings.Contains(hl, want) {
			t.Errorf("hook log lacks %q:\n%s", want, hl)
		}
	}
	if spec.Owner == "external" && !strings.Contains(hl, "link-reconnect") {
		t.Errorf("no link-reconnect hook run:\n%s", hl)
	}
	t.Logf("wall time in the child: %s", time.Since(t0).Round(time.Millisecond))
}

func profileIndex(name string) int {
	switch name {
	case "telekom-de":
		return 0
	case "vodafone-uk":
		return 1
	}
	return 2
}

func describe(st api.Status, err error) string {
	if err != nil {
		return err.Error()
	}
	prof := "-"
	if st.ActiveProfile != nil {
		prof = *st.ActiveProfile
	}
	s := fmt.Sprintf("state %s on %s, link addresses %v", st.State, prof, st.Link.Addresses)
	if lp := st.Link.LastProbe; lp != nil {
		s += fmt.Sprintf(", last probe ok=%v", lp.OK)
		if lp.Error != nil {
			s += " (" + *lp.Error + ")"
		}
	}
	if st.Link.Waiting != nil {
		s += "; " + *st.Link.Waiting
	}
	if b := st.Link.LastBringUp; b != nil {
		s += fmt.Sprintf("; bring-up %s ok=%v %s", b.Trigger, b.OK, b.Detail)
	}
	if h := st.Link.LastHook; h != nil {
		s += fmt.Sprintf("; hook %s %s %s", h.Hook, h.Event, h.Result)
	}
	return s
}

// ifaceAddrIn reports wwan0's IPv4 address if it lies in p.
func ifaceAddrIn(p netip.Prefix) (netip.Addr, bool) {
	ifc, err := net.InterfaceByName(Iface)
	if err != nil {
		return netip.Addr{}, false
	}
	as, _ := ifc.Addrs()
	for _, a := range as {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP.To4()); ok && p.Contains(ip) {
				return ip, true
			}
		}
	}
	return netip.Addr{}, false
}

// defaultVia is the IPv4 default route's gateway, if it leaves by wwan0.
func defaultVia() (netip.Addr, bool) {
	out, err := exec.Command("ip", "-4", "route", "show", "default").Output()
	if err != nil {
		return netip.Addr{}, false
	}
	f := strings.Fields(string(out))
	var via netip.Addr
	dev := ""
	for i := 0; i+1 < len(f); i++ {
		switch f[i] {
		case "via":
			via, _ = netip.ParseAddr(f[i+1])
		case "dev":
			dev = f[i+1]
		}
	}
	return via, via.IsValid() && dev == Iface
}

// carrierVia asks the 204 endpoint, from a socket bound to wwan0, which
// carrier answered ("" if none did).
func carrierVia(ctx context.Context) string {
	dl := &net.Dialer{Timeout: time.Second, Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, Iface)
		}); err != nil {
			return err
		}
		return serr
	}}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DialContext: dl.DialContext, DisableKeepAlives: true, Proxy: nil}}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+Target+"/generate_204", nil)
	resp, err := hc.Do(req)
	if err != nil {
		return ""
	}
	resp.Body.Close()
	return resp.Header.Get("X-Carrier")
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type nopNotifier struct{}

func (nopNotifier) Notify(string) error { return nil }
