package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
	"github.com/imsid/imsid/internal/apiclient"
)

// holder is a process that has the modem's port open.
type holder struct {
	PID    int    // 0 when unknown
	Name   string // the process name, e.g. "imsid"
	Socket string // the daemon's API socket, when it answered there
}

func (h holder) String() string {
	s := firstNonEmpty(h.Name, "another process")
	var parts []string
	if h.PID > 0 {
		parts = append(parts, "pid "+strconv.Itoa(h.PID))
	}
	if h.Socket != "" {
		parts = append(parts, "API socket "+h.Socket)
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s
}

// holderBudget bounds the whole check: probe must refuse within a second.
const holderBudget = 800 * time.Millisecond

// findHolder says who holds device: an imsid daemon whose API names it as
// its modem (asked on every socket imsictl knows), else an imsid process
// with the device open (/proc/*/fd on Linux). A daemon's exclusive open does
// not stop root, so the tty lock alone cannot tell.
func findHolder(ctx context.Context, e *env, device, socketFlag string) (holder, bool) {
	ctx, cancel := context.WithTimeout(ctx, holderBudget)
	defer cancel()
	socks := []string{socketFlag, e.getenv("IMSICTL_SOCKET"), apiclient.DefaultSocket(), openWrtSocket, wire.TryOutSocket()}
	seen := map[string]bool{}
	for _, s := range socks {
		if s == "" || seen[s] {
			continue
		}
		seen[s] = true
		if h, ok := daemonHolding(ctx, s, device); ok {
			return h, true
		}
	}
	return openBy(device)
}

// daemonHolding asks the daemon on sock which device it drives.
func daemonHolding(ctx context.Context, sock, device string) (holder, bool) {
	if _, err := os.Stat(sock); err != nil {
		return holder{}, false
	}
	var pid int
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", sock)
		if err == nil {
			pid = peerPID(c)
		}
		return c, err
	}}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://imsid/v1/status", nil)
	if err != nil {
		return holder{}, false
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return holder{}, false
	}
	defer resp.Body.Close()
	var st wire.Status
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&st) != nil || st.Modem.Device == nil {
		return holder{}, false
	}
	if !samePort(*st.Modem.Device, device) {
		return holder{}, false
	}
	return holder{PID: pid, Name: "imsid", Socket: sock}, true
}

// samePort reports whether two paths name the same device (by-id links,
// the simulator's pty link).
func samePort(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	fa, erra := os.Stat(a)
	fb, errb := os.Stat(b)
	return erra == nil && errb == nil && os.SameFile(fa, fb)
}

// openBy finds an imsid with device open by reading /proc/*/fd (Linux;
// needs the right to read other users' fds, i.e. root for a daemon of
// another user). Not finding one proves nothing.
func openBy(device string) (holder, bool) {
	want, err := os.Stat(device)
	if err != nil {
		return holder{}, false
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return holder{}, false
	}
	self := os.Getpid()
	deadline := time.Now().Add(holderBudget / 2)
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == self {
			continue
		}
		if time.Now().After(deadline) {
			break
		}
		fds, err := os.ReadDir(filepath.Join("/proc", p.Name(), "fd"))
		if err != nil {
			continue
		}
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join("/proc", p.Name(), "fd", fd.Name()))
			if err != nil || !strings.HasPrefix(target, "/dev/") {
				continue
			}
			if fi, err := os.Stat(target); err == nil && os.SameFile(fi, want) {
				// Only an imsid: a simulator serving the port holds it too,
				// and other programs meet the exclusive lock.
				comm, _ := os.ReadFile(filepath.Join("/proc", p.Name(), "comm"))
				if name := strings.TrimSpace(string(comm)); name == "imsid" {
					return holder{PID: pid, Name: name}, true
				}
			}
		}
	}
	return holder{}, false
}

// refuseHeld is probe's answer when the port is held.
func refuseHeld(e *env, device string, h holder) int {
	fmt.Fprintf(e.stderr, "imsictl probe: %s is in use by %s; opening it would disturb that process's AT session, so probe does not.\n", safe(device), safe(h.String()))
	if h.Socket != "" {
		fmt.Fprintf(e.stderr, "  ask the daemon instead:  imsictl --socket %s status   (or: imsictl --socket %s at 'AT+CSQ')\n", safe(h.Socket), safe(h.Socket))
	}
	fmt.Fprintln(e.stderr, "  or stop it first:        sudo systemctl stop imsid")
	return exitFail
}
