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
		CGDCONTLine: func(p *pdpDef) string {
			return fmt.Sprintf(`+CGDCONT: %d,"%s","%s","",0,0,0,0`, p.cid, p.typ, p.apn)
		},
		Commands: map[string]CommandSpec{
			"#CCID":     {Handle: cmdTelitCCID, NeedSIM: true},
			"#SERVINFO": {Handle: cmdSERVINFO},
			"#RFSTS":    {Handle: cmdRFSTS},
		},
	}, "telit")
}

func cmdTelitCCID(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	return []string{"#CCID: " + m.iccidText()}, nil
}

func cmdSERVINFO(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	n := m.campedNetwork()
	if n == nil || n.rat() != RATLTE {
		return []string{`#SERVINFO: 0,0,"","",0,0,0,0,0`}, nil
	}
	r := m.radio(n)
	return []string{fmt.Sprintf(`#SERVINFO: %d,%d,"%s","%s",%07X,%04X,640,3,%d`,
		n.cell.EARFCN, round(r.RSSI), n.cfg.Name, n.plmn, n.cell.CI, n.cell.TAC, round(r.RSRP))}, nil
}

// cmdRFSTS reports the IMSI the modem registered with (field 13).
func cmdRFSTS(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	n := m.campedNetwork()
	if n == nil || n.rat() != RATLTE {
		return []string{`#RFSTS: "",0,0,0,0,0000,255,,0,0,0,0000000,"",""`}, nil
	}
	r := m.radio(n)
	imsi := m.simIMSI
	if imsi == "" {
		imsi = "000000000000000"
	}
	mm := 0
	if m.reg.registered() && m.reg.net == n {
		mm = 1
	}
	return []string{fmt.Sprintf(`#RFSTS: "%s %s",%d,%d,%d,%d,%04X,255,,640,%d,0,%07X,"%s","%s",3,%d`,
		n.mcc(), n.mnc(), n.cell.EARFCN, round(r.RSRP), round(r.RSSI), round(r.RSRQ), n.cell.TAC, mm,
		n.cell.CI, imsi, n.cfg.Name, n.cell.Band)}, nil
}
