package simulator

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// rig is a modem served over net.Pipe.
type rig struct {
	t      *testing.T
	m      *Modem
	client net.Conn
	served chan error
	cancel context.CancelFunc
	buf    bytes.Buffer
}

func loadScenario(t *testing.T, name string) *Scenario {
	t.Helper()
	sc, err := LoadScenario(filepath.Join("scenarios", name))
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func newRig(t *testing.T, sc *Scenario, opts ...Option) *rig {
	t.Helper()
	m, err := New(sc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	client, server := net.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	r := &rig{t: t, m: m, client: client, served: make(chan error, 1), cancel: cancel}
	go func() {
		err := m.Serve(ctx, server)
		server.Close() // as the pty layer closes the master
		r.served <- err
	}()
	t.Cleanup(func() {
		cancel()
		client.Close()
		<-r.served
		server.Close()
		m.Close()
	})
	return r
}

func (r *rig) send(s string) {
	r.t.Helper()
	if _, err := r.client.Write([]byte(s)); err != nil {
		r.t.Fatalf("write %q: %v", s, err)
	}
}

// readUntil reads until the bytes seen so far end with suffix.
func (r *rig) readUntil(suffix string) string {
	r.t.Helper()
	b := make([]byte, 1)
	for !bytes.HasSuffix(r.buf.Bytes(), []byte(suffix)) {
		_ = r.client.SetReadDeadline(time.Now().Add(time.Hour))
		if _, err := r.client.Read(b); err != nil {
			r.t.Fatalf("read (have %q, want suffix %q): %v", r.buf.String(), suffix, err)
		}
		r.buf.Write(b)
	}
	out := r.buf.String()
	r.buf.Reset()
	return out
}

func TestFramingBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, loadScenario(t, "basic.yaml"))
		r.send("AT+CREG?\r")
		if got, want := r.readUntil("OK\r\n"), "AT+CREG?\r\r\n+CREG: 0,1\r\n\r\nOK\r\n"; got != want {
			t.Errorf("echoed reply = %q, want %q", got, want)
		}
		r.send("ATE0\r\n")
		r.readUntil("OK\r\n")
		r.send("AT+CGDCONT?;+CGMI\r")
		want := "\r\n+CGDCONT: 1,\"IP\",\"internet\",\"0.0.0.0\",0,0,0,0\r\n\r\nQuectel\r\n\r\nOK\r\n"
		if got := r.readUntil("OK\r\n"); got != want {
			t.Errorf("concatenated = %q, want %q", got, want)
		}
		r.send("ATV0\r")
		if got := r.readUntil("0\r"); got != "0\r" {
			t.Errorf("ATV0 = %q", got)
		}
		r.send("AT+CGMI\r")
		if got := r.readUntil("0\r"); got != "Quectel\r\n0\r" {
			t.Errorf("V0 reply = %q", got)
		}
		r.send("AT+NOPE\r")
		if got := r.readUntil("4\r"); got != "4\r" {
			t.Errorf("V0 error = %q", got)
		}
		// The log keeps what the client wrote, terminators included.
		var in []string
		for _, e := range r.m.Log() {
			if e.Dir == In {
				in = append(in, string(e.Data))
			}
		}
		if got := strings.Join(in, "|"); got != "AT+CREG?\r|ATE0\r\n|AT+CGDCONT?;+CGMI\r|ATV0\r|AT+CGMI\r|AT+NOPE\r" {
			t.Errorf("log In = %q", got)
		}
	})
}

func TestCharEchoAndBackspace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, loadScenario(t, "basic.yaml"))
		r.send("AT+CGMX\bI\r")
		if got, want := r.readUntil("OK\r\n"), "AT+CGMX\bI\r\r\nQuectel\r\n\r\nOK\r\n"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func TestLatencyOnManualClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := NewManualClock(testEpoch)
		sc := loadScenario(t, "basic.yaml")
		r := newRig(t, sc, WithClock(clk))
		r.send("ATE0\r")
		synctest.Wait()
		if clk.Pending() == 0 {
			t.Fatal("the command did not wait on the clock")
		}
		r.m.Advance(sc.Timing.Latency)
		r.readUntil("OK\r\n")
		r.send("AT+COPS=?\r")
		synctest.Wait()
		r.m.Advance(sc.Timing.COPSScan - time.Millisecond)
		synctest.Wait()
		if r.buf.Len() != 0 {
			t.Fatalf("scan answered early")
		}
		r.m.Advance(time.Millisecond)
		if got := r.readUntil("OK\r\n"); !strings.Contains(got, `(2,"Telekom.de","TDG","26201",7)`) {
			t.Errorf("COPS=? = %q", got)
		}
	})
}

func TestCFUNResetDropsPort(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sc := loadScenario(t, "basic.yaml")
		r := newRig(t, sc)
		r.send("ATE0;+CGDCONT=3,\"IP\",\"nvm\"\r")
		r.readUntil("OK\r\n")
		r.send("AT+CFUN=1,1\r")
		r.readUntil("OK\r\n")
		err := <-r.served
		dropped := time.Now()
		if !errors.Is(err, ErrPortDropped) {
			t.Fatalf("Serve = %v, want ErrPortDropped", err)
		}
		r.served <- err // for cleanup
		if d := r.m.PortDownFor(); d != sc.Timing.PortDown {
			t.Errorf("PortDownFor = %v, want %v", d, sc.Timing.PortDown)
		}
		if err := r.m.WaitPortUp(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(dropped); d != sc.Timing.PortDown {
			t.Errorf("port was down for %v, want %v", d, sc.Timing.PortDown)
		}
		// The port comes back: a new connection sees a rebooted modem.
		client, server := net.Pipe()
		defer client.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.m.Serve(ctx, server) }()
		defer func() { cancel(); <-done }()
		r2 := &rig{t: t, m: r.m, client: client}
		r2.send("AT+CGDCONT?\r")
		got := r2.readUntil("OK\r\n")
		if !strings.HasPrefix(got, "AT+CGDCONT?\r") || !strings.Contains(got, `+CGDCONT: 3,"IP","nvm"`) {
			t.Errorf("after reboot: echo must be back on and CGDCONT kept: %q", got)
		}
		time.Sleep(5 * time.Second) // boot chain and attach
		if st := r.m.Snapshot(); st.RegStat != regHome || st.IMSI != "262011234567890" {
			t.Errorf("after reboot: %+v", st)
		}
	})
}

func TestPortLossFault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, loadScenario(t, "basic.yaml"))
		synctest.Wait() // Serve is up
		if err := r.m.TriggerFault(Fault{Kind: FaultPortLoss, Delay: 3 * time.Second}); err != nil {
			t.Fatal(err)
		}
		err := <-r.served
		r.served <- err
		if !errors.Is(err, ErrPortDropped) || r.m.PortDownFor() != 3*time.Second {
			t.Fatalf("Serve = %v, down %v", err, r.m.PortDownFor())
		}
	})
}

func TestGarbageAndSplitFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, loadScenario(t, "basic.yaml"))
		r.send("ATE0\r")
		r.readUntil("OK\r\n")
		if err := r.m.TriggerFault(Fault{Kind: FaultGarbage, Seed: 5}); err != nil {
			t.Fatal(err)
		}
		r.send("AT+CGMI\r")
		got := r.readUntil("\r\nQuectel\r\n\r\nOK\r\n")
		if len(got) < len("\r\nQuectel\r\n\r\nOK\r\n")+4 {
			t.Errorf("no garbage before the reply: %q", got)
		}
		if err := r.m.TriggerFault(Fault{Kind: FaultSplitWrites, Count: 1, Seed: 9}); err != nil {
			t.Fatal(err)
		}
		before := len(r.m.Log())
		r.send("AT+QENG=\"servingcell\"\r")
		r.readUntil("OK\r\n")
		var outs int
		for _, e := range r.m.Log()[before:] {
			if e.Dir == Out {
				outs++
			}
		}
		if outs < 2 {
			t.Errorf("reply written in %d pieces, want several", outs)
		}
	})
}

func TestServeBusyAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, loadScenario(t, "basic.yaml"))
		synctest.Wait()
		if err := r.m.Serve(context.Background(), struct{ io.ReadWriter }{&bytes.Buffer{}}); !errors.Is(err, ErrBusy) {
			t.Errorf("second Serve = %v, want ErrBusy", err)
		}
		if err := r.m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.m.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-r.served; !errors.Is(err, ErrClosed) {
			t.Errorf("Serve after Close = %v", err)
		}
		r.served <- nil
	})
}

func TestBadInputNeverWedges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, loadScenario(t, "basic.yaml"))
		r.send("ATE0\r")
		r.readUntil("OK\r\n")
		r.send(strings.Repeat("A", 10000) + "\r")
		r.send("AT" + strings.Repeat("+CSQ;", 3000) + "\r")
		r.readUntil("ERROR\r\n")
		r.send("\x00\xff\x1b\r\n\r\r")
		r.send("AT\r")
		r.readUntil("OK\r\n")
	})
}

func FuzzServe(f *testing.F) {
	f.Add([]byte("AT+CSQ\r"))
	f.Add([]byte("ATE0\rAT+COPS=?\rAT+CFUN=0\rAT+CPIN?\r"))
	f.Add([]byte("AT+CGLA=1,10,\"8012000002\"\rAT+CCHO=\"F04D554C5449494D5349\"\r"))
	f.Add([]byte("AT+CFUN=1,1\rAT\r"))
	f.Add([]byte("\x1b\r\nA/\rAT+CRSM=176,28423,0,0,9;+CSIM=8,\"80140201\"\r"))
	f.Add([]byte("\x05AT+WS46=12;+WS46?\rAT#QSS=2;#QSS?\rAT#RFSTS;#SERVINFO\r"))
	f.Add([]byte("\x00AT+QINDCFG=\"all\",1,0;+QINDCFG=\"csq\",1,1\rAT+QINDCFG=?\r"))
	// The first byte picks the world: SIM or none, Quectel, SIMCom, eUICC.
	var worlds []*Scenario
	for _, name := range []string{"basic.yaml", "simcom.yaml", "euicc.yaml", "dual-slot.yaml"} {
		sc, err := LoadScenario(filepath.Join("scenarios", name))
		if err != nil {
			f.Fatal(err)
		}
		worlds = append(worlds, sc)
	}
	noSIM, err := ParseScenario("nosim.yaml", []byte("dialect: generic\nnetworks: [{plmn: \"00101\", cells: [{rat: GSM, ci: 1}]}]\n"))
	if err != nil {
		f.Fatal(err)
	}
	worlds = append(worlds, noSIM)
	// Telit (#RFSTS, #QSS, +WS46) and a generic modem with a GSM network.
	for _, name := range []string{"telit.yaml", "ws46.yaml"} {
		sc, err := LoadScenario(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		worlds = append(worlds, sc)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		sc := worlds[0]
		if len(in) > 0 {
			sc = worlds[int(in[0])%len(worlds)]
		}
		fuzzServeOne(t, sc, in)
	})
}

func fuzzServeOne(t *testing.T, sc *Scenario, in []byte) {
	synctest.Test(t, func(t *testing.T) {
		m, err := New(sc)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		client, server := net.Pipe()
		defer client.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- m.Serve(ctx, server) }()
		go func() { _, _ = io.Copy(io.Discard, client) }()
		_, _ = client.Write(in)
		// Whatever came before, the modem still answers (or has
		// dropped the port on purpose).
		_, werr := client.Write([]byte("\rAT\r"))
		time.Sleep(time.Hour)
		cancel()
		serr := <-done
		if werr != nil && !errors.Is(serr, ErrPortDropped) {
			t.Fatalf("modem stopped reading: %v / %v", werr, serr)
		}
	})
}

// TestLibraryTimelines runs every library scenario for 30 minutes of
// scenario time with a client polling, so every timeline event fires with
// a port attached.
func TestLibraryTimelines(t *testing.T) {
	files, _ := filepath.Glob("scenarios/*.yaml")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				sc := loadScenario(t, filepath.Base(f))
				r := newRig(t, sc)
				go func() { _, _ = io.Copy(io.Discard, r.client) }()
				cmds := []string{"ATE0;+CMEE=2;+CEREG=3;+CGEREP=2,1", "AT+CGACT=1,1", "AT+CSQ;+CEREG?", "AT+QENG=\"servingcell\"", "AT+CIMI", "AT+CPSI?", "AT+QGDCNT?"}
				for i := 0; i < 60; i++ {
					_, err := r.client.Write([]byte(cmds[i%len(cmds)] + "\r"))
					if err != nil {
						// The faults scenario drops the port; serve it again.
						if errors.Is(<-r.served, ErrPortDropped) {
							client, server := net.Pipe()
							r.client = client
							go func() {
								err := r.m.Serve(context.Background(), server)
								server.Close()
								r.served <- err
							}()
							go func() { _, _ = io.Copy(io.Discard, client) }()
							t.Cleanup(func() { client.Close() })
							continue
						}
						t.Fatalf("write: %v", err)
					}
					time.Sleep(30 * time.Second)
				}
				_ = r.m.Snapshot()
			})
		})
	}
}
