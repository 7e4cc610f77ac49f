package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/imsid/imsid/simulator"
)

// expectedQueries are what scripts/interop.sh compares with modeminfo's
// output: the key, and the command whose information lines are expected.
var expectedQueries = []struct{ key, cmd string }{
	{"manufacturer", "AT+CGMI"},
	{"model", "AT+CGMM"},
	{"imei", "AT+CGSN"},
	{"imsi", "AT+CIMI"},
	{"csq", "AT+CSQ"},
	{"creg", "AT+CREG?"},
}

// printExpected runs a second modem from the same scenario in-process and
// prints what a client should read, one key=value line per query. The IMSI
// is also checked against the scenario file itself, so a simulator that
// answered with the wrong card fails here rather than passing interop.
func printExpected(ctx context.Context, sc *simulator.Scenario, speed float64, stdout io.Writer) error {
	if speed <= 0 {
		speed = 1 // a frozen clock would never finish a command's latency
	}
	m, err := simulator.New(sc, simulator.WithClock(simulator.NewRealClock(speed)))
	if err != nil {
		return err
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	modemEnd, client := net.Pipe()
	defer client.Close()
	served := make(chan error, 1)
	go func() { served <- m.Serve(ctx, modemEnd) }()
	defer func() {
		cancel()
		<-served
	}()
	if dl, ok := ctx.Deadline(); ok {
		_ = client.SetDeadline(dl)
	}

	r := bufio.NewReader(client)
	if _, err := command(client, r, "ATE0"); err != nil {
		return err
	}
	var out strings.Builder
	for _, q := range expectedQueries {
		info, err := command(client, r, q.cmd)
		if err != nil {
			return err
		}
		if q.key == "imsi" {
			if want := scenarioIMSI(sc); want != "" && (len(info) != 1 || info[0] != want) {
				return fmt.Errorf("%s answered %q, the scenario's active IMSI is %q", q.cmd, info, want)
			}
		}
		fmt.Fprintf(&out, "%s=%s\n", q.key, strings.Join(info, "|"))
	}
	_, err = io.WriteString(stdout, out.String())
	return err
}

// command sends one command line and returns the lines before the final
// result code. Only framing is handled here: the values are the modem's.
func command(w io.Writer, r *bufio.Reader, cmd string) ([]string, error) {
	if _, err := io.WriteString(w, cmd+"\r"); err != nil {
		return nil, fmt.Errorf("%s: %w", cmd, err)
	}
	var info []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("%s: reading the reply: %w", cmd, err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "" || line == cmd: // framing, or the echo before ATE0 took effect
		case line == "OK":
			return info, nil
		case line == "ERROR" || strings.HasPrefix(line, "+CME ERROR"):
			return nil, fmt.Errorf("%s: %w: %s", cmd, errCommandFailed, line)
		default:
			info = append(info, line)
		}
	}
}

var errCommandFailed = errors.New("command failed")

// scenarioIMSI is the active IMSI as the scenario file states it, or "" when
// the file uses a form this check does not follow (profiles, no SIM).
func scenarioIMSI(sc *simulator.Scenario) string {
	cfg := sc.SIM
	if sc.Slot == 2 {
		cfg = sc.SIM2
	}
	if cfg == nil || len(cfg.IMSIs) == 0 || cfg.ActiveIMSI < 0 || cfg.ActiveIMSI >= len(cfg.IMSIs) {
		return ""
	}
	return cfg.IMSIs[cfg.ActiveIMSI].IMSI
}
