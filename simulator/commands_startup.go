package simulator

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// V.250 basic commands a terminal program or dialler sends, and the 27.005/
// 27.007 queries clients make at start-up (ModemManager, gammu, chat): each
// answers the way the specification shapes it rather than ERROR.

// Runs after commands.go's init (files initialise in name order).
func init() {
	for name, spec := range map[string]CommandSpec{
		"Q":     {Handle: cmdQuiet},
		"S3":    {Handle: cmdS3},
		"I":     {Handle: cmdATI},
		"D":     {Handle: cmdDial},
		"A":     {Handle: cmdNoCarrier},
		"O":     {Handle: cmdNoCarrier},
		"H":     {Handle: cmdOK},
		"&V":    {Handle: cmdProfile},
		"+CPMS": {Handle: cmdCPMS},
		"+CSCA": {Handle: cmdCSCA},
		"+CSCS": {Handle: cmdCSCS},
		"+CCLK": {Handle: cmdCCLK},
		"+CBC":  {Handle: cmdCBC},
		"+CLIP": {Handle: cmdCLIP},
		"+CRC":  {Handle: cmdCRC},
		"+CCWA": {Handle: cmdCCWA},
	} {
		coreCommands[name] = spec
	}
}

// cmdQuiet is ATQ<n>: Q1 suppresses result codes (V.250 §6.2.5); the
// ATQ1 line itself already answers nothing.
func cmdQuiet(m *Modem, c Command) ([]string, error) {
	v, err := basicFlag(c)
	if err == nil {
		m.quiet = v
	}
	return nil, err
}

// cmdS3 is the command line termination character (V.250 §6.2.1): 0-127,
// 13 by default; the reader ends lines on it from the next byte on.
func cmdS3(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		return []string{fmt.Sprintf("%03d", m.s3)}, nil
	case OpSet:
		n, err := strconv.Atoi(c.Args)
		if err != nil || n < 0 || n > 127 {
			return nil, errPlain
		}
		m.s3 = byte(n)
		return nil, nil
	}
	return nil, nil
}

// cmdATI is ATI[<n>]: ATI and ATI0 give the dialect's identification;
// other values only what the dialect documents (Telit: 3 manufacturer, 4
// product name), ERROR otherwise.
func cmdATI(m *Modem, c Command) ([]string, error) {
	if c.Op != OpExec {
		return nil, errPlain
	}
	if c.Args == "" || c.Args == "0" {
		return m.d.ATI(m), nil
	}
	n, err := strconv.Atoi(c.Args)
	if err != nil {
		return nil, errPlain
	}
	if f, ok := m.d.ATIn[n]; ok {
		return f(m), nil
	}
	return nil, errPlain
}

// cmdDial: the simulated modem has no circuit-switched calls and no PPP on
// its AT port, so ATD (a voice number, or *99# for a packet call) ends with
// NO CARRIER, as a modem answers a dial it cannot connect (V.250 §6.3.1).
// A real EG25-G would answer ATD*99# with CONNECT and start PPP; clients
// here use the module's network interface instead.
func cmdDial(m *Modem, c Command) ([]string, error) { return nil, resNoCarrier }

// cmdNoCarrier is ATA (no incoming call) and ATO (no connection to return
// to): NO CARRIER.
func cmdNoCarrier(m *Modem, c Command) ([]string, error) { return nil, resNoCarrier }

// cmdProfile is AT&V, the active profile, one setting a line as Quectel's
// AT manual prints it (EC25/EG25 AT Commands Manual, AT&V example), with
// the settings this modem keeps live.
func cmdProfile(m *Modem, c Command) ([]string, error) {
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	return []string{
		"&C: 1", "&D: 2", "&F: 0", "&W: 0",
		fmt.Sprintf("E: %d", b(m.echo)),
		fmt.Sprintf("Q: %d", b(m.quiet)),
		fmt.Sprintf("V: %d", b(m.verbose)),
		"X: 1", "Z: 0", "S0: 0",
		fmt.Sprintf("S3: %d", m.s3),
		"S4: 10", "S5: 8", "S6: 2", "S7: 0", "S8: 2", "S10: 15",
	}, nil
}

// SMS storages (27.005 §3.2.2): every one is empty; the SIM holds 50.
var smsMems = map[string]int{"SM": 50, "ME": 255, "MT": 305, "SR": 50}

// cmdCPMS: +CPMS? "+CPMS: <mem1>,<used1>,<total1>,<mem2>,...,<mem3>,...";
// +CPMS=<mem1>[,<mem2>[,<mem3>]] "+CPMS: <used1>,<total1>,..."; the
// choice is volatile.
func cmdCPMS(m *Modem, c Command) ([]string, error) {
	mems := strings.Split(m.volatile("cpms", "SM,SM,SM"), ",")
	switch c.Op {
	case OpTest:
		l := `("SM","ME","MT","SR")`
		return []string{"+CPMS: " + l + "," + l + "," + l}, nil
	case OpRead:
		var f []string
		for _, s := range mems {
			f = append(f, fmt.Sprintf(`"%s",0,%d`, s, smsMems[s]))
		}
		return []string{"+CPMS: " + strings.Join(f, ",")}, nil
	case OpSet:
	default:
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 3)
	if err != nil {
		return nil, err
	}
	for i, a := range args {
		s := strings.ToUpper(a.Text)
		if _, ok := smsMems[s]; !ok {
			return nil, badParams() // a real modem: +CMS ERROR: 302
		}
		mems[i] = s
	}
	m.setVolatile("cpms", strings.Join(mems, ","))
	var f []string
	for _, s := range mems {
		f = append(f, fmt.Sprintf("0,%d", smsMems[s]))
	}
	return []string{"+CPMS: " + strings.Join(f, ",")}, nil
}

// cmdCSCA: the SMS service centre (27.005 §3.3.1), "+CSCA: <sca>,<tosca>".
// The simulated SIM has no EF_SMSP entry, so it is empty until set.
func cmdCSCA(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return nil, nil
	case OpRead:
		return []string{"+CSCA: " + m.volatile("csca", `"",129`)}, nil
	case OpSet:
	default:
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 2)
	if err != nil || !args[0].Quoted {
		return nil, badParams()
	}
	toa := 129
	if strings.HasPrefix(args[0].Text, "+") {
		toa = 145
	}
	if len(args) == 2 && !args[1].Empty {
		if toa, err = strconv.Atoi(args[1].Text); err != nil || toa < 128 || toa > 255 {
			return nil, badParams()
		}
	}
	m.setVolatile("csca", fmt.Sprintf(`"%s",%d`, args[0].Text, toa))
	return nil, nil
}

// cmdCSCS: the TE character set (27.007 §5.5); the dialect's default,
// "IRA" unless it says otherwise.
func cmdCSCS(m *Modem, c Command) ([]string, error) {
	def := m.d.CSCSDefault
	if def == "" {
		def = "IRA"
	}
	switch c.Op {
	case OpTest:
		return []string{`+CSCS: ("GSM","IRA","UCS2")`}, nil
	case OpRead:
		return []string{`+CSCS: "` + m.volatile("cscs", def) + `"`}, nil
	case OpSet:
	default:
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 1)
	if err != nil {
		return nil, err
	}
	switch cs := strings.ToUpper(args[0].Text); cs {
	case "GSM", "IRA", "UCS2":
		m.setVolatile("cscs", cs)
		return nil, nil
	}
	return nil, badParams()
}

// cmdCCLK: the real-time clock (27.007 §8.15), "+CCLK: "yy/MM/dd,hh:mm:ss±zz"",
// zz in quarter hours. It runs on the modem's clock, UTC until set; a set
// keeps the offset from the modem's clock.
func cmdCCLK(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return nil, nil
	case OpRead:
		off, _ := strconv.ParseInt(m.volatile("cclk-offset", "0"), 10, 64)
		qh, _ := strconv.Atoi(m.volatile("cclk-tz", "0"))
		t := m.clk.Now().UTC().Add(time.Duration(off)).Add(time.Duration(qh) * 15 * time.Minute)
		sign := "+"
		if qh < 0 {
			sign, qh = "-", -qh
		}
		return []string{fmt.Sprintf(`+CCLK: "%s%s%02d"`, t.Format("06/01/02,15:04:05"), sign, qh)}, nil
	case OpSet:
	default:
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 1)
	if err != nil || !args[0].Quoted || len(args[0].Text) != 20 {
		return nil, badParams()
	}
	s := args[0].Text
	local, err := time.Parse("06/01/02,15:04:05", s[:17])
	qh, err2 := strconv.Atoi(s[17:])
	if err != nil || err2 != nil || qh < -96 || qh > 96 {
		return nil, badParams()
	}
	utc := local.Add(-time.Duration(qh) * 15 * time.Minute)
	m.setVolatile("cclk-offset", strconv.FormatInt(int64(utc.Sub(m.clk.Now().UTC())), 10))
	m.setVolatile("cclk-tz", strconv.Itoa(qh))
	return nil, nil
}

// cmdCBC: battery charge (27.007 §8.4), "+CBC: <bcs>,<bcl>": a gateway
// module runs from its supply, so 0 (powered) at 100 %. Dialects that add
// the voltage override it.
func cmdCBC(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{"+CBC: (0-3),(0-100)"}, nil
	case OpExec:
		return []string{"+CBC: 0,100"}, nil
	}
	return nil, errPlain
}

// The call-related reporting switches ModemManager (while enabling) and
// gammu (monitor) turn on at start-up: AT+CLIP=1, AT+CRC=1, AT+CCWA=1.
// The simulated modem has no calls, so each only keeps its switch; a data
// modem with voice (EG25, LE910C1, SIM7600) answers them OK.

// reportSwitch handles a 0/1 switch of 27.007's form +X=[<n>]: an empty
// <n> is 0, the read answers "+X: <n>" plus extra, the test "+X: (0,1)".
func reportSwitch(m *Modem, c Command, name, key, extra string) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{name + ": (0,1)"}, nil
	case OpRead:
		return []string{name + ": " + m.volatile(key, "0") + extra}, nil
	case OpSet:
	default:
		return nil, errPlain
	}
	if strings.TrimSpace(c.Args) == "" {
		m.setVolatile(key, "0")
		return nil, nil
	}
	args, err := needArgs(c, 1, 1)
	if err != nil {
		return nil, err
	}
	v, ok := argInt(args[0], 0, 1)
	if !ok {
		return nil, badParams()
	}
	m.setVolatile(key, strconv.Itoa(v))
	return nil, nil
}

// cmdCLIP: calling line identification presentation (27.007 §7.6),
// +CLIP=[<n>]; the read is "+CLIP: <n>,<m>", <m> 2: the network's
// provisioning status is unknown (the simulator does not ask it).
func cmdCLIP(m *Modem, c Command) ([]string, error) {
	return reportSwitch(m, c, "+CLIP", "clip", ",2")
}

// cmdCRC: cellular result codes (27.007 §6.11), +CRC=[<mode>]: 1 reports
// an incoming call as +CRING: <type> instead of RING.
func cmdCRC(m *Modem, c Command) ([]string, error) {
	return reportSwitch(m, c, "+CRC", "crc", "")
}

// cmdCCWA: call waiting (27.007 §7.12), +CCWA=[<n>[,<mode>[,<class>]]].
// <n> is the URC switch; <mode> 0/1 disables or enables the service,
// 2 queries it: "+CCWA: <status>,<class>" per class, or "+CCWA: 0,7"
// when it is active for none (the answer here, the service never being
// enabled on the simulated network).
func cmdCCWA(m *Modem, c Command) ([]string, error) {
	if c.Op != OpSet || strings.TrimSpace(c.Args) == "" {
		return reportSwitch(m, c, "+CCWA", "ccwa", "")
	}
	args, err := needArgs(c, 1, 3)
	if err != nil {
		return nil, err
	}
	n := 0
	if !args[0].Empty {
		v, ok := argInt(args[0], 0, 1)
		if !ok {
			return nil, badParams()
		}
		n = v
	}
	var out []string
	if len(args) > 1 && !args[1].Empty {
		mode, ok := argInt(args[1], 0, 2)
		if !ok {
			return nil, badParams()
		}
		if mode == 2 {
			out = []string{"+CCWA: 0,7"}
		}
	}
	if len(args) > 2 && !args[2].Empty {
		if _, ok := argInt(args[2], 1, 255); !ok {
			return nil, badParams()
		}
	}
	m.setVolatile("ccwa", strconv.Itoa(n))
	return out, nil
}
