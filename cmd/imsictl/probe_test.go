package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/imsid/imsid/internal/offline"
)

// replies is a small Quectel EG25 as 27.007 and the vendor manual describe
// it. Anything not listed answers ERROR, which the probe must show as null.
var replies = map[string][]string{
	"AT":            {"OK"},
	"ATE0":          {"OK"},
	"AT+CMEE=1":     {"OK"},
	"AT+CMEE?":      {"+CMEE: 1", "OK"},
	"AT+CREG=3":     {"OK"},
	"AT+CGREG=3":    {"OK"},
	"AT+CEREG=3":    {"OK"},
	"AT+CGEREP=2,1": {"OK"},
	"AT+CGMI":       {"Quectel", "OK"},
	"AT+CGMM":       {"EG25", "OK"},
	"AT+CGMR":       {"Revision: EG25GGBR07A08M2G", "OK"},
	"AT+CGSN":       {"867962040000000", "OK"},
	"AT+CPIN?":      {"+CPIN: READY", "OK"},
	"AT+QCCID":      {"+QCCID: 89490200001234567890", "OK"},
	"AT+CIMI":       {"262011234567890", "OK"},
	"AT+CREG?":      {"+CREG: 3,1,\"DE10\",\"5A29C0B\",7", "OK"},
	"AT+CGREG?":     {"+CGREG: 3,1,\"DE10\",\"5A29C0B\",7", "OK"},
	"AT+CEREG?":     {"+CEREG: 3,1,\"DE10\",\"5A29C0B\",7", "OK"},
}

// fakePort answers commands from a table over net.Pipe.
func fakePort(t *testing.T, table map[string][]string, urcFirst string) io.ReadWriteCloser {
	host, dev := net.Pipe()
	go func() {
		defer dev.Close()
		if urcFirst != "" {
			io.WriteString(dev, "\r\n"+urcFirst+"\r\n")
		}
		sc := bufio.NewScanner(dev)
		for sc.Scan() {
			cmd := strings.TrimSpace(sc.Text())
			if cmd == "" {
				continue
			}
			r, ok := table[cmd]
			if !ok {
				r = []string{"ERROR"}
			}
			for _, l := range r {
				if _, err := io.WriteString(dev, "\r\n"+l+"\r\n"); err != nil {
					return
				}
			}
		}
	}()
	return host
}

func runWith(t *testing.T, open offline.Opener, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := runEnv(t.Context(), &env{stdout: &out, stderr: &errb, helper: inProcess(open)}, args)
	return code, out.String(), errb.String()
}

func TestProbeJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		open := func(ctx context.Context, path string, baud int) (io.ReadWriteCloser, error) {
			return fakePort(t, replies, "RDY"), nil
		}
		code, out, errs := runWith(t, open, "probe", "--device", "/dev/fake", "--json", "--reveal")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		mod := rep["modem"].(map[string]any)
		sim := rep["sim"].(map[string]any)
		reg := rep["registration"].(map[string]any)
		if mod["manufacturer"] != "Quectel" || mod["model"] != "EG25" || mod["imei"] != "867962040000000" {
			t.Errorf("modem = %v", mod)
		}
		if sim["imsi"] != "262011234567890" || sim["iccid"] != "89490200001234567890" || sim["state"] != "ready" {
			t.Errorf("sim = %v", sim)
		}
		if reg["status"] != "home" || reg["tac"] != "DE10" || reg["cell_id"] != "5A29C0B" || reg["tech"] != "LTE" {
			t.Errorf("registration = %v", reg)
		}
		// Every key is present even when the modem said nothing.
		for _, k := range []string{"rssi_dbm", "rsrp_dbm", "rsrq_db", "sinr_db"} {
			if _, ok := rep["signal"].(map[string]any)[k]; !ok {
				t.Errorf("signal.%s missing", k)
			}
		}
		if _, ok := rep["serving_cell"]; !ok {
			t.Error("serving_cell missing")
		}
	})
}

func TestProbeMasksByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		open := func(ctx context.Context, path string, baud int) (io.ReadWriteCloser, error) {
			return fakePort(t, replies, ""), nil
		}
		code, out, errs := runWith(t, open, "probe", "--device", "/dev/fake")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if strings.Contains(out, "262011234567890") || strings.Contains(out, "89490200001234567890") {
			t.Fatalf("identity in clear:\n%s", out)
		}
		for _, want := range []string{"262011*******90", "8949020**********890", "Quectel", "home"} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestProbeSilentPort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		open := func(ctx context.Context, path string, baud int) (io.ReadWriteCloser, error) {
			host, dev := net.Pipe()
			go io.Copy(io.Discard, dev)
			t.Cleanup(func() { dev.Close() })
			return host, nil
		}
		start := time.Now()
		code, _, errs := runWith(t, open, "probe", "--device", "/dev/ttyS0")
		if code != 1 || !strings.Contains(errs, "/dev/ttyS0") || !strings.Contains(errs, "no answer to AT") {
			t.Fatalf("exit %d: %s", code, errs)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v", d)
		}
	})
}

func TestProbeOpenFails(t *testing.T) {
	open := func(ctx context.Context, path string, baud int) (io.ReadWriteCloser, error) {
		return nil, errors.New("no such file or directory")
	}
	code, _, errs := runWith(t, open, "probe", "--device", "/dev/ttyUSB9")
	if code != 1 || !strings.Contains(errs, "/dev/ttyUSB9") || !strings.Contains(errs, "no such file") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, 2}, {[]string{"bogus"}, 2}, {[]string{"probe"}, 2}, {[]string{"probe", "--baud", "0", "--device", "x"}, 2},
		{[]string{"probe", "--dialect", "nokia", "--device", "x"}, 2}, {[]string{"help"}, 0}, {[]string{"probe", "-h"}, 0},
	} {
		if code, _, errs := runWith(t, nil, tc.args...); code != tc.code {
			t.Errorf("%q: exit %d, want %d (%s)", tc.args, code, tc.code, errs)
		}
	}
	code, out, _ := runWith(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "imsictl ") {
		t.Errorf("version: %d %q", code, out)
	}
}
