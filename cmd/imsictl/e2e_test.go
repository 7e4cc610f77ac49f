package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.bug.st/serial"
	"gopkg.in/yaml.v3"

	"github.com/imsid/imsid/modem"
)

// basicScenario is the part of simulator/scenarios/basic.yaml the probe
// must reproduce, read here independently of the simulator's own loader.
type basicScenario struct {
	SIM struct {
		ICCID      string `yaml:"iccid"`
		ActiveIMSI int    `yaml:"active_imsi"`
		IMSIs      []struct {
			IMSI string `yaml:"imsi"`
		} `yaml:"imsis"`
	} `yaml:"sim"`
	Networks []struct {
		PLMN   string `yaml:"plmn"`
		Name   string `yaml:"name"`
		Signal struct {
			RSRP, RSRQ, SINR, RSSI float64
		} `yaml:"signal"`
		Cells []struct {
			RAT    string `yaml:"rat"`
			TAC    string `yaml:"tac"`
			CI     string `yaml:"ci"`
			EARFCN int    `yaml:"earfcn"`
			PCI    int    `yaml:"pci"`
			Band   int    `yaml:"band"`
		} `yaml:"cells"`
	} `yaml:"networks"`
}

var (
	buildOnce             sync.Once
	builtDir, buildFailed string
)

// TestMain removes the binaries the e2e tests build (once per run).
func TestMain(m *testing.M) {
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

func buildBinaries(t *testing.T) (imsictl, modemsim string) {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "imsictl-e2e-")
		if err != nil {
			buildFailed = err.Error()
			return
		}
		builtDir = dir
		// imsid too: imsictl runs it for probe --device and config validate.
		for _, pkg := range []string{"../imsictl", "../modemsim", "../imsid"} {
			out, err := exec.Command("go", "build", "-o", dir+"/", pkg).CombinedOutput()
			if err != nil {
				buildFailed = fmt.Sprintf("cannot build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildFailed != "" {
		// Both binaries are in this repository: a build failure is a
		// failure, not a reason to skip.
		t.Fatal(buildFailed)
	}
	return filepath.Join(builtDir, "imsictl"), filepath.Join(builtDir, "modemsim")
}

// startSim runs modemsim and returns the stable link path.
func startSim(t *testing.T, bin, scenario string) (link string, stop func()) {
	t.Helper()
	dir := t.TempDir()
	link = filepath.Join(dir, "modem")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--scenario", scenario, "--link", link, "--speed", "20", "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			first <- sc.Text()
		}
		close(first)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case p, ok := <-first:
		if !ok || !strings.HasPrefix(p, "/") {
			cancel()
			cmd.Wait()
			t.Fatalf("modemsim printed %q; stderr:\n%s", p, stderr.String())
		}
	case <-time.After(15 * time.Second):
		cancel()
		cmd.Wait()
		t.Fatalf("modemsim did not print its pty; stderr:\n%s", stderr.String())
	}
	var once bool
	stop = func() {
		if once {
			return
		}
		once = true
		cancel()
		cmd.Wait()
	}
	t.Cleanup(stop)
	return link, stop
}

type probeOut struct {
	Modem struct {
		Manufacturer *string `json:"manufacturer"`
	} `json:"modem"`
	SIM struct {
		State *string `json:"state"`
		ICCID *string `json:"iccid"`
		IMSI  *string `json:"imsi"`
	} `json:"sim"`
	Registration struct {
		Status   *string `json:"status"`
		Tech     *string `json:"tech"`
		PLMN     *string `json:"plmn"`
		Operator *string `json:"operator"`
		TAC      *string `json:"tac"`
		CellID   *string `json:"cell_id"`
	} `json:"registration"`
	Signal struct {
		RSRP *float64 `json:"rsrp_dbm"`
		RSRQ *float64 `json:"rsrq_db"`
		SINR *float64 `json:"sinr_db"`
	} `json:"signal"`
	ServingCell *struct {
		PCI    *int `json:"pci"`
		EARFCN *int `json:"earfcn"`
	} `json:"serving_cell"`
}

func probeJSON(t *testing.T, bin, dev string) (probeOut, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "probe", "--device", dev, "--json", "--reveal", "--timeout", "25s")
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var p probeOut
	if err == nil {
		err = json.Unmarshal(out.Bytes(), &p)
	}
	return p, out.String() + errb.String(), err
}

func s(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

func f(p *float64) string {
	if p == nil {
		return "<null>"
	}
	return fmt.Sprint(*p)
}

// probeUntilRegistered probes until the modem reports home registration
// (the scenario attaches a few scenario-seconds after power-on).
func probeUntilRegistered(t *testing.T, bin, dev string) probeOut {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		p, raw, err := probeJSON(t, bin, dev)
		if err == nil && s(p.Registration.Status) == "home" && p.Signal.RSRP != nil {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("never registered: %v\n%s", err, raw)
		}
		time.Sleep(500 * time.Millisecond) // e2e only: a real modem attaching
	}
}

func checkAgainstScenario(t *testing.T, p probeOut, sc basicScenario) {
	t.Helper()
	imsi := sc.SIM.IMSIs[sc.SIM.ActiveIMSI].IMSI
	nw := sc.Networks[0]
	for _, n := range sc.Networks {
		if strings.HasPrefix(imsi, n.PLMN) {
			nw = n
		}
	}
	cell := nw.Cells[0]
	checks := []struct{ name, got, want string }{
		{"sim.iccid", s(p.SIM.ICCID), sc.SIM.ICCID},
		{"sim.imsi", s(p.SIM.IMSI), imsi},
		{"sim.state", s(p.SIM.State), "ready"},
		{"registration.status", s(p.Registration.Status), "home"},
		{"registration.tech", s(p.Registration.Tech), "LTE"},
		{"registration.plmn", s(p.Registration.PLMN), nw.PLMN},
		{"registration.operator", s(p.Registration.Operator), nw.Name},
		{"registration.tac", s(p.Registration.TAC), cell.TAC},
		{"registration.cell_id", s(p.Registration.CellID), cell.CI},
		{"signal.rsrp_dbm", f(p.Signal.RSRP), fmt.Sprint(nw.Signal.RSRP)},
		{"signal.rsrq_db", f(p.Signal.RSRQ), fmt.Sprint(nw.Signal.RSRQ)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.name, c.got, c.want)
		}
	}
	if p.ServingCell == nil || p.ServingCell.PCI == nil || *p.ServingCell.PCI != cell.PCI {
		t.Errorf("serving_cell = %+v, want pci %d", p.ServingCell, cell.PCI)
	}
}

// resetModem sends AT+CFUN=1,1 through the driver, as the service would.
func resetModem(t *testing.T, dev string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	port, err := serial.Open(dev, &serial.Mode{BaudRate: 115200})
	if err != nil {
		t.Fatalf("open for reset: %v", err)
	}
	m, err := modem.New(ctx, port)
	if err != nil {
		t.Fatalf("session for reset: %v", err)
	}
	defer m.Close()
	if err := m.Reset(ctx); err != nil {
		t.Fatalf("reset: %v", err)
	}
}

func TestE2EProbeAgainstModemsim(t *testing.T) {
	if testing.Short() {
		t.Skip("e2e")
	}
	imsictl, modemsim := buildBinaries(t)
	scenario := "../../simulator/scenarios/basic.yaml"
	raw, err := os.ReadFile(scenario)
	if err != nil {
		t.Fatal(err)
	}
	var sc basicScenario
	if err := yaml.Unmarshal(raw, &sc); err != nil {
		t.Fatal(err)
	}
	link, stop := startSim(t, modemsim, scenario)

	checkAgainstScenario(t, probeUntilRegistered(t, imsictl, link), sc)

	// The same values after the modem restarts (the port may vanish and
	// come back under the same link meanwhile).
	resetModem(t, link)
	checkAgainstScenario(t, probeUntilRegistered(t, imsictl, link), sc)

	// Port loss: the simulator goes away; the probe must say so, naming
	// the device, and fail fast.
	stop()
	start := time.Now()
	_, out, err := probeJSON(t, imsictl, link)
	if err == nil || !strings.Contains(out, link) {
		t.Fatalf("probe after port loss: %v\n%s", err, out)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("port-loss error took %v", d)
	}
}
