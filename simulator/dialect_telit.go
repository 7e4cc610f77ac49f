package simulator

import (
	"fmt"
	"time"
)

// Telit LE910C1: mostly 27.007, plus #CCID, #SERVINFO and #RFSTS (which
// names the IMSI in use). It is also the worked example of adding a dialect
// without touching the core.

func init() {
	RegisterDialect(&Dialect{
		Name:         "telit-le910",
		Manufacturer: "Telit",
		Model:        "LE910C1-EUX",
		Revision:     "25.30.224",
		IMEI:         "354616090000010",
		CRSMQuoted:   true,
		COPSModes:    "(0-4),(0-2)",
		USB:          true,
		BootURCs:     []URCStep{{1500 * time.Millisecond, "+PACSP0"}},
		ATI:          func(m *Modem) []string { return []string{m.model()} },
		// ATI[<n>]: 0 (or none) the identifier, 3 manufacturer, 4 product
		// name (Telit AT Commands Reference Guide, I - Identification
		// Information); 1, 2 and 5 (checksums, DOB version) are not
		// simulated and answer ERROR.
		ATIn: map[int]func(m *Modem) []string{
			3: func(m *Modem) []string { return []string{m.manufacturer()} },
			4: func(m *Modem) []string { return []string{m.model()} },
		},
		// Telit answers with the prefix: "The response message of the
		// command is in the format: +CCHO: <sessionId>" (LE910C series AT
		// Commands Reference Guide, AT+CCHO; the same in the LE910-SKG and
		// ME910G1 guides, easymanua.ls/telit-wireless-solutions/le910c-series
		// manual 838766 p.879). Only the generic 27.007 dialect answers bare,
		// as the spec's table shows and Fibocom's FM350-GL does (lpac #209).
		CCHOLine: func(ch int) string { return fmt.Sprintf("+CCHO: %d", ch) },
		OnSIM:    telitOnSIM,
		CGDCONTLine: func(p *pdpDef) string {
			return fmt.Sprintf(`+CGDCONT: %d,"%s","%s","",0,0,0,0`, p.cid, p.typ, p.apn)
		},
		Commands: map[string]CommandSpec{
			"#CCID":     {Handle: cmdTelitCCID, NeedSIM: true},
			"#SERVINFO": {Handle: cmdSERVINFO},
			"#RFSTS":    {Handle: cmdRFSTS},
			"+WS46":     {Handle: cmdWS46},
			"#QSS":      {Handle: cmdQSS},
			"#ECM":      {Handle: cmdECM},
			"#ECMD":     {Handle: cmdECMD},
			"#PSNT":     {Handle: cmdPSNT},
		},
	}, "telit")
}

func cmdTelitCCID(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	return []string{"#CCID: " + m.iccidText()}, nil
}

// telitSD is the <SD> service domain: 0 no service, 3 CS+PS.
func (m *Modem) telitSD(n *network) int {
	if m.reg.registered() && m.reg.net == n {
		return 3
	}
	return 0
}

// telitGSMBand is the GSM <ABND>: 1 GSM850, 2 GSM900, 3 DCS1800, 4 PCS1900.
func telitGSMBand(band int) int {
	switch band {
	case 850:
		return 1
	case 1800:
		return 3
	case 1900:
		return 4
	}
	return 2
}

// cmdSERVINFO prints the layout of the camped cell's RAT (Telit AT
// reference, #SERVINFO):
//
//	GSM:   <B-ARFCN>,<dBM>,<NetNameAsc>,<NetCode>,<BSIC>,<LAC>,<TA>,<GPRS>,[<PB-ARFCN>],<NOM>,<RAC>,<PAT>
//	WCDMA: <UARFCN>,<dBM>,<NetNameAsc>,<NetCode>,<PSC>,<LAC>,<DRX>,<SD>,<RSCP>,<NOM>,<RAC>
//	LTE:   <EARFCN>,<dBM>,<NetNameAsc>,<NetCode>,<PhysicalCellId>,<TAC>,<DRX>,<SD>,<RSRP>
//
// Without a cell every value is unknown and left empty, as the firmware
// leaves what it has not decoded.
func cmdSERVINFO(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	n := m.campedNetwork()
	if n == nil {
		return []string{`#SERVINFO: ,,"","",,,,0,`}, nil
	}
	r := m.radio(n)
	cl := n.cell
	switch n.rat() {
	case RATGSM:
		return []string{fmt.Sprintf(`#SERVINFO: %d,%d,"%s","%s",%02d,%04X,00,1,,"II",00,6`,
			cl.EARFCN, round(r.RSSI), n.cfg.Name, n.plmn, cl.PCI, cl.TAC)}, nil
	case RATWCDMA:
		return []string{fmt.Sprintf(`#SERVINFO: %d,%d,"%s","%s",%d,%04X,64,%d,%d,"II",00`,
			cl.EARFCN, round(r.RSSI), n.cfg.Name, n.plmn, cl.PCI, cl.TAC, m.telitSD(n), round(r.RSRP))}, nil
	}
	return []string{fmt.Sprintf(`#SERVINFO: %d,%d,"%s","%s",%07X,%04X,640,%d,%d`,
		cl.EARFCN, round(r.RSSI), n.cfg.Name, n.plmn, cl.CI, cl.TAC, m.telitSD(n), round(r.RSRP))}, nil
}

// cmdRFSTS reports the camped cell in its RAT's layout, with the IMSI the
// modem registered with (Telit AT reference, #RFSTS):
//
//	GSM (14):    "<MCC MNC>",<ARFCN>,<RSSI>,<LAC>,<RAC>,<TXPWR>,<MM>,<RR>,<NOM>,<CID>,<IMSI>,<NetNameAsc>,<SD>,<ABND>
//	WCDMA (19+): "<MCC MNC>",<UARFCN>,<PSC>,<Ec/Io>,<RSCP>,<RSSI>,<LAC>,<RAC>,<TXPWR>,<DRX>,<MM>,<RRC>,<NOM>,<BLER>,<CID>,<IMSI>,<NetNameAsc>,<SD>,<nAST>[,<nUARFCN>,<nPSC>,<nEc/Io>]...
//	LTE (16):    "<MCC MNC>",<EARFCN>,<RSRP>,<RSSI>,<RSRQ>,<TAC>,<RAC>,[<TXPWR>],<DRX>,<MM>,<RRC>,<CID>,<IMSI>,[<NetNameAsc>],<SD>,<ABND>
//
// With no cell the LTE layout comes with every radio field empty, MM/RRC/SD
// 0 and only the IMSI known, as Telit firmware prints undecoded values.
func cmdRFSTS(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	imsi := m.simIMSI
	if imsi == "" {
		imsi = "000000000000000"
	}
	n := m.campedNetwork()
	if n == nil {
		return []string{fmt.Sprintf(`#RFSTS: ,,,,,,,,,0,0,,"%s","",0,`, imsi)}, nil
	}
	r := m.radio(n)
	cl := n.cell
	reg := m.reg.registered() && m.reg.net == n
	plmn := n.mcc() + " " + n.mnc()
	switch n.rat() {
	case RATGSM:
		mm := 0
		if reg {
			mm = 19 // MM idle, updated
		}
		return []string{fmt.Sprintf(`#RFSTS: "%s",%d,%d,%04X,00,0,%d,10,2,%04X,"%s","%s",%d,%d`,
			plmn, cl.EARFCN, round(r.RSSI), cl.TAC, mm, cl.CI, imsi, n.cfg.Name, m.telitSD(n), telitGSMBand(cl.Band))}, nil
	case RATWCDMA:
		mm := 0
		if reg {
			mm = 19
		}
		// One active-set member: the serving cell itself.
		return []string{fmt.Sprintf(`#RFSTS: "%s",%d,%d,%.1f,%d,%d,%04X,00,0,64,%d,0,2,0,%07X,"%s","%s",%d,1,%d,%d,%.1f`,
			plmn, cl.EARFCN, cl.PCI, r.RSRQ, round(r.RSRP), round(r.RSSI), cl.TAC, mm, cl.CI, imsi, n.cfg.Name,
			m.telitSD(n), cl.EARFCN, cl.PCI, r.RSRQ)}, nil
	}
	mm := 0
	if reg {
		mm = 1
	}
	return []string{fmt.Sprintf(`#RFSTS: "%s",%d,%d,%d,%d,%04X,255,,640,%d,0,%07X,"%s","%s",%d,%d`,
		plmn, cl.EARFCN, round(r.RSRP), round(r.RSSI), round(r.RSRQ), cl.TAC, mm,
		cl.CI, imsi, n.cfg.Name, m.telitSD(n), cl.Band)}, nil
}

// cmdQSS: AT#QSS=<mode> turns on SIM status URCs: mode 1 "#QSS: 0/1" on
// removal and insertion, mode 2 also "#QSS: 3" once the SIM is ready. Read:
// "#QSS: <mode>,<status>" (0 not inserted, 1 inserted, 3 ready).
func cmdQSS(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{"#QSS: (0-2)"}, nil
	case OpRead:
		mode := m.volatile("qss", "0")
		return []string{fmt.Sprintf("#QSS: %s,%d", mode, m.telitSIMStatus(mode))}, nil
	case OpSet:
	default:
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 1)
	if err != nil {
		return nil, err
	}
	v, ok := argInt(args[0], 0, 2)
	if !ok {
		return nil, badParams()
	}
	m.setVolatile("qss", fmt.Sprint(v))
	return nil, nil
}

func (m *Modem) telitSIMStatus(mode string) int {
	switch {
	case m.activeCard() == nil || m.sim == simAbsent:
		return 0
	case m.sim == simReady && mode == "2":
		return 3
	}
	return 1
}

// telitOnSIM sends the #QSS URCs AT#QSS enabled.
func telitOnSIM(m *Modem, ev SIMEvent) {
	mode := m.volatile("qss", "0")
	if mode == "0" {
		return
	}
	switch ev {
	case SIMRemoved:
		m.urc("#QSS: 0")
	case SIMInserted:
		m.urc("#QSS: 1")
	case SIMReady:
		if mode == "2" {
			m.urc("#QSS: 3")
		}
	}
}

// cmdECM: AT#ECM=<instance>,<did>[,<user>,<pwd>,<auth>] brings the ECM
// call up (instance 1 only here); read "#ECM: <instance>,<state>". The
// call needs service and is forgotten at reset.
func cmdECM(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{"#ECM: (1),(0)"}, nil
	case OpRead:
		st := 0
		if m.vol[volDataCall] != "" {
			st = 1
		}
		return []string{fmt.Sprintf("#ECM: 1,%d", st)}, nil
	case OpExec:
		return nil, errPlain
	}
	args, err := needArgs(c, 2, 5)
	if err != nil {
		return nil, err
	}
	if _, ok := argInt(args[0], 1, 1); !ok {
		return nil, badParams()
	}
	if m.reg.net == nil {
		return nil, errPlain
	}
	m.vol[volDataCall] = "1"
	return nil, nil
}

// cmdECMD: AT#ECMD=<instance> takes the ECM call down.
func cmdECMD(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return []string{"#ECMD: (0)"}, nil
	}
	if c.Op != OpSet {
		return nil, errPlain
	}
	delete(m.vol, volDataCall)
	return nil, nil
}

// cmdPSNT: AT#PSNT? answers "#PSNT: <mode>,<nt>", the packet service
// network type: 0 GPRS, 1 EGPRS, 2 WCDMA, 3 HSDPA, 4 LTE, 5 unknown or not
// registered (Telit LE910Cx AT Commands Reference Guide, #PSNT).
// ModemManager's telit plugin reads its access technology here. AT#PSNT=<mode>
// (0 or 1) stores the URC switch; the "#PSNT: <nt>" URC itself is not sent.
func cmdPSNT(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{"#PSNT: (0,1)"}, nil
	case OpRead:
		return []string{fmt.Sprintf("#PSNT: %s,%d", m.volatile("psnt", "0"), m.telitPSNT())}, nil
	case OpExec:
		return nil, errPlain
	}
	args, err := needArgs(c, 1, 1)
	if err != nil {
		return nil, err
	}
	v, ok := argInt(args[0], 0, 1)
	if !ok {
		return nil, badParams()
	}
	m.setVolatile("psnt", fmt.Sprint(v))
	return nil, nil
}

// telitPSNT is #PSNT's <nt> for the network the modem is registered on.
func (m *Modem) telitPSNT() int {
	if !m.reg.registered() || m.reg.net == nil {
		return 5
	}
	switch m.reg.net.rat() {
	case RATGSM:
		return 0 // GPRS, as +COPS says <AcT> 0
	case RATWCDMA:
		return 2 // WCDMA, as +COPS says <AcT> 2
	case RATLTE:
		return 4
	}
	return 5
}
