package simulator

import (
	"fmt"
	"time"
)

// SIMCom SIM7600 (E-H), following the SIM7500/SIM7600 AT manual's shapes.

var simcomCNMP = map[int]ratMask{
	2:  maskAll,
	13: maskGSM,
	14: maskWCDMA,
	38: maskLTE,
	51: maskGSM | maskLTE,
	54: maskWCDMA | maskLTE,
	19: maskGSM | maskWCDMA,
}

func init() {
	RegisterDialect(&Dialect{
		Name:          "simcom-sim7600",
		Manufacturer:  "SIMCOM INCORPORATED",
		Model:         "SIMCOM_SIM7600E-H",
		Revision:      "LE20B04SIM7600M22",
		IMEI:          "862636052000019",
		CGMRPrefix:    "+CGMR: ",
		CRSMQuoted:    false,
		CGPADDRQuoted: false,
		COPSModes:     "(0,1,2,3,4),(0,1,2)",
		USB:           true,
		BootURCs:      []URCStep{{1500 * time.Millisecond, "RDY"}},
		SIMReadyURCs:  []URCStep{{1800 * time.Millisecond, "SMS DONE"}, {500 * time.Millisecond, "PB DONE"}},
		CGDCONTLine: func(p *pdpDef) string {
			return fmt.Sprintf(`+CGDCONT: %d,"%s","%s","0.0.0.0",0,0,0,0`, p.cid, p.typ, p.apn)
		},
		// SIM7600 answers CCHO with the bare session id, as 27.007 shows it.
		CCHOLine: func(ch int) string { return fmt.Sprint(ch) },
		Commands: map[string]CommandSpec{
			"+CPSI":     {Handle: cmdCPSI},
			"+CNMP":     {Handle: cmdCNMP},
			"+CICCID":   {Handle: cmdCICCID, NeedSIM: true},
			"$QCRMCALL": {Handle: cmdQCRMCALL},
		},
	}, "simcom", "simcom-sim7600e-h")
}

func cmdCICCID(m *Modem, c Command) ([]string, error) {
	if c.Op == OpTest {
		return nil, nil
	}
	if c.Op != OpExec {
		return nil, errPlain
	}
	return []string{"+ICCID: " + m.iccidText()}, nil
}

func cmdCNMP(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpRead:
		return []string{fmt.Sprintf("+CNMP: %d", m.nvm.cnmp)}, nil
	case OpTest:
		return []string{"+CNMP: (2,13,14,19,38,51,54)"}, nil
	case OpSet:
		args, err := needArgs(c, 1, 1)
		if err != nil {
			return nil, err
		}
		v, ok := argInt(args[0], 0, 255)
		mask, known := simcomCNMP[v]
		if !ok || !known {
			return nil, badParams()
		}
		m.nvm.cnmp = v
		m.nvm.ratMask = mask
		m.afterResponse(m.evaluate)
		return nil, nil
	}
	return nil, errPlain
}

// cmdCPSI reports RSRQ, RSRP and RSSI in tenths of a dB, as SIM7600 does.
func cmdCPSI(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{"+CPSI: (0-255)"}, nil
	case OpSet:
		return nil, nil
	case OpRead:
	default:
		return nil, errPlain
	}
	if m.cfun != 1 {
		return []string{"+CPSI: NO SERVICE,Low Power Mode"}, nil
	}
	n := m.campedNetwork()
	if n == nil {
		return []string{"+CPSI: NO SERVICE,Online"}, nil
	}
	r := m.radio(n)
	cl := n.cell
	op := n.mcc() + "-" + n.mnc()
	mode := "Online"
	if !r.usable(n.rat()) {
		// Power heard, cell not decodable (jamming): camped without service.
		mode = "Limited Service"
	}
	switch n.rat() {
	case RATGSM:
		return []string{fmt.Sprintf("+CPSI: GSM,%s,%s,0x%04X,%d,%d EGSM900,%d,0,%d-%d",
			mode, op, cl.TAC, cl.CI, cl.EARFCN, round(r.RSSI), max(round(r.RSSI+110), 0), max(round(r.RSSI+110), 0))}, nil
	case RATWCDMA:
		return []string{fmt.Sprintf("+CPSI: WCDMA,%s,%s,0x%04X,%d,WCDMA IMT 2000,%d,%d,0,%d,%d,0,%d,0",
			mode, op, cl.TAC, cl.CI, cl.PCI, cl.EARFCN, round(r.RSRQ), round(r.RSRP), round(r.RSSI))}, nil
	}
	return []string{fmt.Sprintf("+CPSI: LTE,%s,%s,0x%04X,%d,%d,EUTRAN-BAND%d,%d,5,5,%d,%d,%d,%d",
		mode, op, cl.TAC, cl.CI, cl.PCI, cl.Band, cl.EARFCN,
		round(r.RSRQ*10), round(r.RSRP*10), round(r.RSSI*10), round(r.SINR))}, nil
}

// cmdQCRMCALL: AT$QCRMCALL=<action>,<instance>[,<ip type>[,<act>[,<umts
// profile>]]] starts (1) or stops (0) the RmNet call; the start answers
// "$QCRMCALL: <instance>,V4" before OK and needs service. Volatile.
func cmdQCRMCALL(m *Modem, c Command) ([]string, error) {
	switch c.Op {
	case OpTest:
		return []string{"$QCRMCALL: (0-1),(1-2),(1-3),(1-2),(1-16),(1-16)"}, nil
	case OpRead:
		if m.vol[volDataCall] == "" {
			return nil, nil
		}
		return []string{"$QCRMCALL: " + m.vol[volDataCall]}, nil
	case OpExec:
		return nil, errPlain
	}
	args, err := needArgs(c, 2, 6)
	if err != nil {
		return nil, err
	}
	action, ok1 := argInt(args[0], 0, 1)
	inst, ok2 := argInt(args[1], 1, 2)
	if !ok1 || !ok2 {
		return nil, badParams()
	}
	if action == 0 {
		delete(m.vol, volDataCall)
		return nil, nil
	}
	if m.reg.net == nil {
		return nil, errPlain
	}
	m.vol[volDataCall] = fmt.Sprintf("%d,V4", inst)
	return []string{"$QCRMCALL: " + m.vol[volDataCall]}, nil
}
