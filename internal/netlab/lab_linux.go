package netlab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/imsid/imsid/simulator"
	"golang.org/x/sys/unix"
)

// Names of the link's two ends and the carriers' shared "internet" address.
const (
	Iface     = "wwan0" // the gateway's end: the cellular interface
	PeerIface = "cell0" // the carrier's end
	// Target is where every carrier answers HTTP 204 (on its loopback):
	// the probes' target, reachable only through the link.
	Target = "198.18.0.1:8080"
)

// ErrTools: a tool the lab needs is missing (or the caller is not root).
var ErrTools = errors.New("netlab: needs root, iproute2 (ip), dnsmasq and udhcpc")

// Check reports why the lab cannot be built here, wrapped in ErrTools.
func Check() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: not root", ErrTools)
	}
	for _, tool := range []string{"ip", "dnsmasq", "udhcpc"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%w: %s not found", ErrTools, tool)
		}
	}
	return nil
}

// Carrier is one simulated network's side: its namespace and subnet.
type Carrier struct {
	PLMN   string
	Subnet netip.Prefix // a /24; the carrier is .1, leases .100-.199
}

// Gateway is the carrier's address on the link (the default route's via).
func (c Carrier) Gateway() netip.Addr { return c.Subnet.Addr().Next() }

// Lab is the namespaces and servers of one test. Close tears it down.
type Lab struct {
	GW       string // the gateway namespace
	Carriers map[string]Carrier
	ns       map[string]string // PLMN → namespace
	dir      string
	procs    []*exec.Cmd
	servers  []*http.Server
	wg       sync.WaitGroup
	logf     func(format string, args ...any)
	attached bool
}

// New builds the lab: name prefixes every namespace (keep it unique per
// run). The link's far end starts in the first carrier, down. On error
// what was built is torn down.
func New(ctx context.Context, name string, carriers []Carrier, logf func(string, ...any)) (_ *Lab, err error) {
	if err := Check(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "netlab-")
	if err != nil {
		return nil, err
	}
	l := &Lab{GW: name + "-gw", Carriers: map[string]Carrier{}, ns: map[string]string{}, dir: dir, logf: logf}
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	if err := l.ip(ctx, "netns", "add", l.GW); err != nil {
		return nil, err
	}
	if err := l.ip(ctx, "-n", l.GW, "link", "set", "lo", "up"); err != nil {
		return nil, err
	}
	for _, c := range carriers {
		ns := name + "-c" + c.PLMN
		l.Carriers[c.PLMN], l.ns[c.PLMN] = c, ns
		for _, args := range [][]string{
			{"netns", "add", ns},
			{"-n", ns, "link", "set", "lo", "up"},
			{"-n", ns, "addr", "add", strings.Split(Target, ":")[0] + "/32", "dev", "lo"},
			// The local table's rule moves from 0 to 10, so a core
			// outage's drop rule (5) comes before local delivery.
			{"-n", ns, "rule", "add", "pref", "10", "lookup", "local"},
			{"-n", ns, "rule", "del", "pref", "0", "lookup", "local"},
		} {
			if err := l.ip(ctx, args...); err != nil {
				return nil, err
			}
		}
		if err := l.dnsmasq(ns, c); err != nil {
			return nil, err
		}
		if err := l.serve204(ns, c.PLMN); err != nil {
			return nil, err
		}
	}
	first := l.ns[carriers[0].PLMN]
	if err := l.ip(ctx, "link", "add", Iface, "netns", l.GW, "type", "veth", "peer", "name", PeerIface, "netns", first); err != nil {
		return nil, err
	}
	if err := l.ip(ctx, "-n", l.GW, "link", "set", Iface, "up"); err != nil {
		return nil, err
	}
	if err := l.configurePeer(ctx, carriers[0].PLMN); err != nil {
		return nil, err
	}
	return l, nil
}

// NS is a carrier's namespace.
func (l *Lab) NS(plmn string) string { return l.ns[plmn] }

// Close stops the servers and removes every namespace. Idempotent.
func (l *Lab) Close() {
	if l.attached {
		return
	}
	for _, s := range l.servers {
		s.Close()
	}
	l.servers = nil
	for _, p := range l.procs {
		if p.Process != nil {
			_ = syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
		}
	}
	l.wg.Wait()
	l.procs = nil
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	names := []string{l.GW}
	for _, ns := range l.ns {
		names = append(names, ns)
	}
	sort.Strings(names)
	for _, ns := range names {
		if ns == "" {
			continue
		}
		if _, err := os.Stat("/var/run/netns/" + ns); err == nil {
			if err := l.ip(ctx, "netns", "del", ns); err != nil && l.logf != nil {
				l.logf("netlab: %v", err)
			}
		}
	}
	if l.dir != "" {
		os.RemoveAll(l.dir)
		l.dir = ""
	}
}

func (l *Lab) ip(ctx context.Context, args ...string) error { return IP(ctx, args...) }

// IP runs iproute2's ip with args.
func IP(ctx context.Context, args ...string) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func (l *Lab) configurePeer(ctx context.Context, plmn string) error {
	c := l.Carriers[plmn]
	return l.ip(ctx, "-n", l.ns[plmn], "addr", "add", netip.PrefixFrom(c.Gateway(), c.Subnet.Bits()).String(), "dev", PeerIface)
}

// dnsmasq serves DHCP (no DNS) on the link's far end whenever it is in ns.
func (l *Lab) dnsmasq(ns string, c Carrier) error {
	base := c.Subnet.Addr().As4()
	lo := netip.AddrFrom4([4]byte{base[0], base[1], base[2], 100})
	hi := netip.AddrFrom4([4]byte{base[0], base[1], base[2], 199})
	cmd := exec.Command("ip", "netns", "exec", ns, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
		"--no-resolv", "--no-hosts", "--port=0", "--bind-dynamic", "--interface="+PeerIface, "--user=root",
		"--dhcp-authoritative", "--no-ping", "--dhcp-range="+lo.String()+","+hi.String()+",255.255.255.0,2m",
		"--dhcp-option=option:router,"+c.Gateway().String(), "--dhcp-leasefile="+filepath.Join(l.dir, ns+".leases"),
		"--pid-file="+filepath.Join(l.dir, ns+".pid"), "--log-facility=-", "--log-dhcp")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("dnsmasq in %s: %w", ns, err)
	}
	l.procs = append(l.procs, cmd)
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		err := cmd.Wait()
		if l.logf != nil && out.Len() > 0 && err != nil && !strings.Contains(err.Error(), "killed") {
			l.logf("dnsmasq %s: %v\n%s", ns, err, out.String())
		}
	}()
	return nil
}

// serve204 listens on Target inside ns (a socket keeps the namespace it
// was made in) and answers 204, naming the carrier in X-Carrier.
func (l *Lab) serve204(ns, plmn string) error {
	ln, err := listenIn(ns, Target)
	if err != nil {
		return fmt.Errorf("listen in %s: %w", ns, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Carrier", plmn)
		w.WriteHeader(http.StatusNoContent)
	}), ReadHeaderTimeout: 5 * time.Second}
	l.servers = append(l.servers, srv)
	l.wg.Add(1)
	go func() { defer l.wg.Done(); _ = srv.Serve(ln) }()
	return nil
}

// listenIn opens a TCP listener inside the named namespace from a thread
// switched there for the call and back.
func listenIn(ns, addr string) (net.Listener, error) {
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer orig.Close()
	target, err := os.Open("/var/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	defer target.Close()
	if err := setns(target.Fd()); err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	ln, lerr := net.Listen("tcp4", addr)
	if err := setns(orig.Fd()); err != nil {
		// The thread is in the wrong namespace: leave it locked, so the
		// runtime ends it with this goroutine rather than reuse it.
		if ln != nil {
			ln.Close()
		}
		return nil, err
	}
	runtime.UnlockOSThread()
	return ln, lerr
}

func setns(fd uintptr) error {
	if err := unix.Setns(int(fd), unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("setns: %w", err)
	}
	return nil
}

// Driver keeps the link following the simulated modem.
type Driver struct {
	Lab      *Lab
	NeedCall bool // ECM mode: nothing passes before the data call
	Logf     func(format string, args ...any)

	mu  sync.Mutex
	cur LinkState
}

// Current is the link as last set.
func (d *Driver) Current() LinkState { d.mu.Lock(); defer d.mu.Unlock(); return d.cur }

// Run polls the modem every interval (real time) until ctx ends and
// applies what changed.
func (d *Driver) Run(ctx context.Context, m *simulator.Modem, interval time.Duration) error {
	carriers := map[string]bool{}
	for p := range d.Lab.Carriers {
		carriers[p] = true
	}
	// The far end starts where New put it (the first carrier), down.
	for p := range d.Lab.Carriers {
		if d.Current().Carrier == "" && d.hasPeer(ctx, p) {
			d.mu.Lock()
			d.cur = LinkState{Carrier: p}
			d.mu.Unlock()
		}
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		want := Want(m.Snapshot(), carriers, d.NeedCall)
		if acts := Plan(d.Current(), want); len(acts) > 0 {
			if err := d.apply(ctx, acts); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (d *Driver) hasPeer(ctx context.Context, plmn string) bool {
	return exec.CommandContext(ctx, "ip", "-n", d.Lab.ns[plmn], "link", "show", PeerIface).Run() == nil
}

func (d *Driver) apply(ctx context.Context, acts []Action) error {
	for _, a := range acts {
		ns := d.Lab.ns[a.Carrier]
		var err error
		switch a.Op {
		case OpMove:
			err = IP(ctx, "-n", d.Lab.ns[a.From], "link", "set", PeerIface, "netns", ns)
			if err == nil {
				err = d.Lab.configurePeer(ctx, a.Carrier)
			}
		case OpUp:
			err = IP(ctx, "-n", ns, "link", "set", PeerIface, "up")
		case OpDown:
			err = IP(ctx, "-n", ns, "link", "set", PeerIface, "down")
		case OpDrop:
			err = IP(ctx, "-n", ns, "rule", "add", "pref", "5", "iif", PeerIface, "blackhole")
		case OpUndrop:
			err = IP(ctx, "-n", ns, "rule", "del", "pref", "5")
		}
		if err != nil {
			return err
		}
		d.mu.Lock()
		d.cur = Apply(d.cur, []Action{a})
		d.mu.Unlock()
		if d.Logf != nil {
			d.Logf("link: %s %s", a.Op, a.Carrier)
		}
	}
	return nil
}

// Attach is a view of a lab another process built with New(name,
// carriers): enough for a Driver, owning nothing (Close is a no-op).
func Attach(name string, carriers []Carrier) *Lab {
	l := &Lab{GW: name + "-gw", Carriers: map[string]Carrier{}, ns: map[string]string{}, attached: true}
	for _, c := range carriers {
		l.Carriers[c.PLMN], l.ns[c.PLMN] = c, name+"-c"+c.PLMN
	}
	return l
}
