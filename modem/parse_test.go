package modem

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func u32(v uint32) *uint32 { return &v }
func u64(v uint64) *uint64 { return &v }
func act(v AcT) *AcT       { return &v }

// Registration vectors from ModemManager's src/tests/test-modem-helpers.c
// (real modems; "sol" = MM's solicited regex set) and the reference.
func TestParseRegistrationShapes(t *testing.T) {
	tests := []struct {
		line string
		read bool
		want Registration
	}{
		{"+CREG: 1,3", true, Registration{Domain: DomainCS, Status: RegDenied}},
		{"+CREG: 3", false, Registration{Domain: DomainCS, Status: RegDenied}},
		{"+CREG: 1,1,84CD,00D30173", true, Registration{Domain: DomainCS, Status: RegHome, Area: u32(0x84CD), CellID: u64(0xD30173)}},
		{"+CREG: 1,84CD,00D30156", false, Registration{Domain: DomainCS, Status: RegHome, Area: u32(0x84CD), CellID: u64(0xD30156)}},
		{`+CREG: 1,"CE00","00005449"`, false, Registration{Domain: DomainCS, Status: RegHome, Area: u32(0xCE00), CellID: u64(0x5449)}},
		{"+CREG: 2,0,00,0", true, Registration{Domain: DomainCS, Status: RegNotRegistered, Area: u32(0), CellID: u64(0)}},
		{"+CREG: 2,,", false, Registration{Domain: DomainCS, Status: RegSearching}},
		{`+CREG:002,001,"18d8","ffff"`, true, Registration{Domain: DomainCS, Status: RegHome, Area: u32(0x18D8), CellID: u64(0xFFFF)}},
		{"+CREG:2,1,0001,0010", true, Registration{Domain: DomainCS, Status: RegHome, Area: u32(1), CellID: u64(0x10)}},
		{"+CREG: 1,0001,0010,0", false, Registration{Domain: DomainCS, Status: RegHome, Area: u32(1), CellID: u64(0x10), AcT: act(ActGSM)}},
		{`+CREG: 001,"0001","0010",000`, false, Registration{Domain: DomainCS, Status: RegHome, Area: u32(1), CellID: u64(0x10), AcT: act(ActGSM)}},
		{`+CREG: 2,5,"0502","0404736D"`, true, Registration{Domain: DomainCS, Status: RegRoaming, Area: u32(0x502), CellID: u64(0x0404736D)}},
		{"+CREG: 2,1,000B,2816, B, C2816", true, Registration{Domain: DomainCS, Status: RegHome, Area: u32(0xB), CellID: u64(0x2816)}},
		{`+CGREG: 2,1,"8BE3","00002B5D",3`, true, Registration{Domain: DomainPS, Status: RegHome, Area: u32(0x8BE3), CellID: u64(0x2B5D), AcT: act(ActEGPRS)}},
		{`+CGREG: 1,"1422","00000142",3,"00"`, false, Registration{Domain: DomainPS, Status: RegHome, Area: u32(0x1422), CellID: u64(0x142), AcT: act(ActEGPRS), RAC: u32(0)}},
		{"+CGREG: 2,1, 81ED, 1A9CEB", true, Registration{Domain: DomainPS, Status: RegHome, Area: u32(0x81ED), CellID: u64(0x1A9CEB)}},
		{`+CGREG: 2, 1, "0426", "F00F"`, true, Registration{Domain: DomainPS, Status: RegHome, Area: u32(0x426), CellID: u64(0xF00F)}},
		{"+CEREG: 2,1, 1F00, 79D903 ,7", true, Registration{Domain: DomainEPS, Status: RegHome, Area: u32(0x1F00), CellID: u64(0x79D903), AcT: act(ActEUTRAN)}},
		{"+CEREG: 1, 1F00, 79D903 ,7", false, Registration{Domain: DomainEPS, Status: RegHome, Area: u32(0x1F00), CellID: u64(0x79D903), AcT: act(ActEUTRAN)}},
		{"+CEREG: 1, 2, 0001, 00000100, 7", true, Registration{Domain: DomainEPS, Status: RegSearching, Area: u32(1), CellID: u64(0x100), AcT: act(ActEUTRAN)}},
		{"+CEREG: 2, 0001, 00000100, 7", false, Registration{Domain: DomainEPS, Status: RegSearching, Area: u32(1), CellID: u64(0x100), AcT: act(ActEUTRAN)}},
		{"+CEREG: 2,1, 1F00, 20 ,79D903 ,7", true, Registration{Domain: DomainEPS, Status: RegHome, Area: u32(0x1F00), CellID: u64(0x79D903), AcT: act(ActEUTRAN)}},
		{"+CEREG: 1, 1F00, 20 ,79D903 ,7", false, Registration{Domain: DomainEPS, Status: RegHome, Area: u32(0x1F00), CellID: u64(0x79D903), AcT: act(ActEUTRAN)}},
		{`+CEREG: 2,1,"DE10","5A29C0B",7`, true, Registration{Domain: DomainEPS, Status: RegHome, Area: u32(0xDE10), CellID: u64(0x5A29C0B), AcT: act(ActEUTRAN)}},
		{`+CEREG: 1,"DE10","5A29C0B",7`, false, Registration{Domain: DomainEPS, Status: RegHome, Area: u32(0xDE10), CellID: u64(0x5A29C0B), AcT: act(ActEUTRAN)}},
		{`+CEREG: 3,3,"2046","07ba7016",7,0,15`, true, Registration{Domain: DomainEPS, Status: RegDenied, Area: u32(0x2046), CellID: u64(0x07BA7016), AcT: act(ActEUTRAN), RejectCauseType: ptr(0), RejectCause: ptr(15)}},
		{`+CEREG: 3,"2046","07ba7016",7,0,13`, false, Registration{Domain: DomainEPS, Status: RegDenied, Area: u32(0x2046), CellID: u64(0x07BA7016), AcT: act(ActEUTRAN), RejectCauseType: ptr(0), RejectCause: ptr(13)}},
		{`+CEREG: 2,5,"3AD6","490A66",9`, true, Registration{Domain: DomainEPS, Status: RegRoaming, Area: u32(0x3AD6), CellID: u64(0x490A66), AcT: act(ActNBIoT)}}, // Telit ME910C1-E2, NB-IoT
		{`+CEREG: 4,5,,,,,,,"00000000","01100000"`, true, Registration{Domain: DomainEPS, Status: RegRoaming}},
		{"+C5GREG: 2,1,1F00,79D903,11,6,ABCDEF", true, Registration{Domain: Domain5GS, Status: RegHome, Area: u32(0x1F00), CellID: u64(0x79D903), AcT: act(ActNR5GCN)}},
		{"+C5GREG: 1,1F00,79D903,11,6,ABCDEF", false, Registration{Domain: Domain5GS, Status: RegHome, Area: u32(0x1F00), CellID: u64(0x79D903), AcT: act(ActNR5GCN)}},
		{"+cereg: 5", false, Registration{Domain: DomainEPS, Status: RegRoaming}},
	}
	for _, tt := range tests {
		got, read, err := ParseRegistration(tt.line)
		if err != nil {
			t.Errorf("%q: %v", tt.line, err)
			continue
		}
		if read != tt.read || read != IsRegistrationRead(tt.line) {
			t.Errorf("%q: read shape = %v, want %v", tt.line, read, tt.read)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%q: (-want +got)\n%s", tt.line, d)
		}
	}
	for _, bad := range []string{"+CEREG:", "+CEREG: x", "+CEREG: 12", `+CREG: 1,"ZZZZ","1"`, "+COPS: 0", "+CEREG: 2,1,\"DE10\",\"5A29C0B\",zz"} {
		_, _, err := ParseRegistration(bad)
		if !errors.Is(err, ErrParse) {
			t.Errorf("%q: err = %v, want ErrParse", bad, err)
		}
	}
}

func TestParseIdentityPieces(t *testing.T) {
	imsi, err := ParseIMSI([]string{"+CEREG: 1", "+CIMI: 310260123456789"})
	if err != nil || imsi.Reveal() != "310260123456789" {
		t.Errorf("IMSI = %q, %v", imsi.Reveal(), err)
	}
	if _, err := ParseIMSI([]string{"ERROR"}); !errors.Is(err, ErrParse) || strings.Contains(err.Error(), "ERROR\"") {
		t.Errorf("bad IMSI err = %v", err)
	}
	for in, want := range map[string]string{
		"+QCCID: 89860436101892671308":               "89860436101892671308",
		"+QCCID: 8901260886258128535F":               "8901260886258128535",
		"+QCCID: 898604B2012290748345":               "898604B2012290748345",
		`+CCID: "89620160002701055486"`:              "89620160002701055486",
		`+CCID: "89148000000637720260",""`:           "89148000000637720260",
		"+ICCID: 898600700907A6019125":               "898600700907A6019125",
		"+ICCID: 8901260881206806423":                "8901260881206806423",
		"#CCID: 89882280666027595366":                "89882280666027595366",
		"^ICCID: 89860315202032147012":               "89860315202032147012",
		"!ICCID: 89014104279040493957":               "89014104279040493957",
		"89445046230000084372":                       "89445046230000084372",
		"+qccid: 89860436101892671308f":              "89860436101892671308",
		"+CCID: 89462046061000053093, \"garbage\"  ": "89462046061000053093",
	} {
		got, err := ParseICCID([]string{in})
		if err != nil || got.Reveal() != want {
			t.Errorf("ICCID(%q) = %q, %v; want %q", in, got.Reveal(), err, want)
		}
	}
	states := map[string]SIMState{"+CPIN: READY": SIMReady, `+CPIN: "SIM PIN"`: SIMPIN, "+CPIN: SIM PUK": SIMPUK,
		"+CPIN: NOT READY": SIMNotReady, "+CPIN: PH-NET PIN": SIMPersonalisation, "+CPIN:SIM PIN2": SIMPIN2}
	for in, want := range states {
		if got, err := ParseCPIN(in); err != nil || got != want {
			t.Errorf("CPIN(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if st, ok := SIMStateFromError(&OpError{Cmd: "AT+CPIN?", Err: NewCMEError("10")}); !ok || st != SIMNotInserted {
		t.Errorf("CME 10 -> %v %v", st, ok)
	}
	if st, ok := SIMStateFromError(&OpError{Cmd: "AT+CPIN?", Err: NewCMEError("SIM busy")}); !ok || st != SIMBusy {
		t.Errorf("CME SIM busy -> %v %v", st, ok)
	}
}

func TestParseCOPSRead(t *testing.T) {
	tests := map[string]Operator{
		`+COPS: 0,0,"Telekom.de",13`:          {Mode: 0, Name: "Telekom.de", AcT: act(13)},
		`+COPS: 0,2,"26201",13`:               {Mode: 0, PLMN: PLMN{"262", "01"}, AcT: act(13)},
		`+COPS: 0`:                            {},
		`+COPS: 1,2,"46000"`:                  {Mode: 1, PLMN: PLMN{"460", "00"}},
		`+COPS: 0,2,"00320031003400300037",7`: {PLMN: PLMN{"214", "07"}, AcT: act(ActEUTRAN)},
		`+COPS: 2`:                            {Mode: 2},
		`+COPS: 0,0,"Orange@",2`:              {Name: "Orange", AcT: act(ActUTRAN)}, // Huawei E169, gammu issue 385: 0x00 padding
	}
	for in, want := range tests {
		got, err := ParseCOPS(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%q: %s", in, d)
		}
	}
	nets, err := ParseCOPSTest([]string{`+COPS: (2,"T-Mobile","TMO","31026",0),`, `(1,"AT&T",,"310410",0),,(0,1,3),(0,2)`})
	if err != nil || len(nets) != 2 || nets[1].PLMN.String() != "310410" || nets[1].ShortName != "" {
		t.Errorf("split COPS=? = %+v, %v", nets, err)
	}
	nets, err = ParseCOPSTest([]string{`+COPS: (1,"A","A","23201",7)`, `+COPS: (1,"B","B","23203")`})
	if err != nil || len(nets) != 2 || nets[1].AcT != nil {
		t.Errorf("repeated-prefix COPS=? = %+v, %v", nets, err)
	}
}

func TestParsePDP(t *testing.T) {
	addrs, err := ParseCGPADDR([]string{
		`+CGPADDR: 2,"10.36.130.14"`,
		`+CGPADDR: 1,10.83.214.110`,
		`+CGPADDR: 3,"0.0.0.0","32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.1"`,
		`+CGPADDR: 4,"0.0.0.0","0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"`,
		`+CGPADDR: 5`,
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []PDPAddress{
		{CID: 1, Addrs: []netip.Addr{netip.MustParseAddr("10.83.214.110")}},
		{CID: 2, Addrs: []netip.Addr{netip.MustParseAddr("10.36.130.14")}},
		{CID: 3, Addrs: []netip.Addr{netip.MustParseAddr("2001:db8::1")}},
		{CID: 4},
		{CID: 5},
	}
	if d := cmp.Diff(want, addrs, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); d != "" {
		t.Error(d)
	}
	act, err := ParseCGACT([]string{"+CGACT: 1,1", "+CGACT: 2,0"})
	if err != nil || !act[1] || act[2] {
		t.Errorf("CGACT = %v, %v", act, err)
	}
	if _, err := ParseCGACT([]string{"+CGACT: 1,7"}); !errors.Is(err, ErrParse) {
		t.Errorf("CGACT state 7: %v", err)
	}
}

func TestParseQENG(t *testing.T) {
	sc, _, err := ParseQENG([]string{`+QENG: "servingcell","NOCONN","LTE","FDD",460,01,5F1EA15,12,1650,3,5,5,DE10,-100,-12,-68,11,-,-,27`}, SINRdB)
	if err != nil {
		t.Fatal(err)
	}
	want := ServingCell{Tech: TechLTE, State: "NOCONN", PLMN: PLMN{"460", "01"}, Area: u32(0xDE10), CellID: u64(0x5F1EA15),
		PCI: ptr(12), EARFCN: ptr(1650), Band: "B3",
		Signal: Signal{Tech: TechLTE, RSRP: dbm(-100), RSRQ: db(-12), RSSI: dbm(-68), SINR: db(11), Source: "+QENG"}}
	if d := cmp.Diff(want, sc); d != "" {
		t.Errorf("LTE 20 fields: %s", d)
	}
	// 18 fields (EP06-A): same positions up to SINR.
	sc, _, err = ParseQENG([]string{`+QENG: "servingcell","NOCONN","LTE","FDD",310,260,1452808,315,5035,12,2,2,3AFD,-104,-11,-78,12,20`}, SINRdB)
	if err != nil || sc.PLMN.String() != "310260" || *sc.Signal.SINR != 12 || *sc.Area != 0x3AFD {
		t.Errorf("LTE 18 fields: %+v %v", sc, err)
	}
	sc, _, err = ParseQENG([]string{`+QENG: "servingcell","NOCONN","WCDMA",440,10,75,6FE0090,10736,58,0,-78,-3,-,-,-,-,-`}, SINRdB)
	if err != nil || sc.Tech != TechUMTS || *sc.Signal.RSCP != -78 || *sc.Signal.EcIo != -3 || *sc.PCI != 58 {
		t.Errorf("WCDMA: %+v %v", sc, err)
	}
	sc, _, err = ParseQENG([]string{`+QENG: "servingcell","NOCONN","GSM",460,00,247C,1327,35,82,-,-52,255,255,0,53,179,1,-,-,-,-,-,-,-,-,-,"-"`}, SINRdB)
	if err != nil || sc.Tech != TechGSM || *sc.Signal.RSSI != -52 || sc.Band != "" || *sc.Area != 0x247C {
		t.Errorf("GSM: %+v %v", sc, err)
	}
	sc, _, err = ParseQENG([]string{`+QENG: "servingcell","SEARCH"`}, SINRdB)
	if err != nil || sc.State != "SEARCH" || sc.Tech != TechUnknown || sc.CellID != nil {
		t.Errorf("SEARCH: %+v %v", sc, err)
	}
	_, nbs, err := ParseQENG([]string{
		`+QENG: "neighbourcell intra","LTE",38950,276,-3,-88,-65,0,37,7,16,6,44`,
		`+QENG: "neighbourcell inter","LTE",39148,-,-,-,-,-,37,0,30,7`,
	}, SINRdB)
	if err != nil || len(nbs) != 2 || *nbs[0].Signal.RSRP != -88 || nbs[1].PCI != nil || nbs[1].Signal.RSRP != nil || *nbs[1].EARFCN != 39148 {
		t.Errorf("neighbours: %+v %v", nbs, err)
	}
	sc, _, err = ParseQENG([]string{`+QENG: "servingcell","NOCONN","LTE","FDD",460,01,5F1EA15,12,1650,3,5,5,DE10,-100,-12,-68,150,-,-,27`}, SINRRaw5)
	if err != nil || *sc.Signal.SINR != 10 {
		t.Errorf("raw SINR: %v %v", sc.Signal.SINR, err)
	}
	if _, _, err := ParseQENG([]string{`+QENG: "servingcell","NOCONN","LTE","FDD",460,01,XYZ,12`}, SINRdB); !errors.Is(err, ErrParse) || !strings.Contains(err.Error(), "cellID") {
		t.Errorf("bad cell id: %v", err)
	}
}

func TestParseCPSI(t *testing.T) {
	sc, err := ParseCPSI("+CPSI: LTE,Online,228-02,0x9CA4,20964868,46,EUTRAN-BAND20,6200,3,3,-178,-1089,-742,8")
	if err != nil {
		t.Fatal(err)
	}
	want := ServingCell{Tech: TechLTE, State: "Online", PLMN: PLMN{"228", "02"}, Area: u32(0x9CA4), CellID: u64(20964868), PCI: ptr(46),
		EARFCN: ptr(6200), Band: "B20", Signal: Signal{Tech: TechLTE, RSRQ: db(-17.8), RSRP: dbm(-108.9), RSSI: dbm(-74.2), SINR: db(8), Source: "+CPSI"}}
	if d := cmp.Diff(want, sc); d != "" {
		t.Error(d)
	}
	sc, err = ParseCPSI("+CPSI: LTE CAT-M1,Online,505-01,0x2036,134523149,238,EUTRAN-BAND28,9410,5,5,-20,-116,-82,6")
	if err != nil || sc.Tech != TechLTEM || *sc.Signal.RSRP != -116 || *sc.Signal.RSRQ != -20 {
		t.Errorf("CAT-M1 plain dB: %+v %v", sc, err)
	}
	sc, err = ParseCPSI("+CPSI: WCDMA,Online,252-02,0x2612,-294967296,WCDMA IMT 2000,437,10687,0,-3,-83,-32768,-83,-15")
	if err != nil || sc.Tech != TechUMTS || sc.CellID != nil || *sc.Signal.RSCP != -83 {
		t.Errorf("WCDMA: %+v %v", sc, err)
	}
	sc, err = ParseCPSI("+CPSI: NO SERVICE,Online")
	if err != nil || sc.Tech != TechUnknown || sc.State != "Online" {
		t.Errorf("NO SERVICE: %+v %v", sc, err)
	}
}

func TestParseUCGEDNoService(t *testing.T) {
	sc, _, err := ParseUCGED([]string{"+UCGED: 2", "6,2,fff,fff", "65535,255,255,255,ffff,0000000,65535,00000000,ffff,ff,255,255,255,255,255,255,255"})
	if err != nil {
		t.Fatal(err)
	}
	if !sc.PLMN.IsZero() || sc.EARFCN != nil || sc.Area != nil || sc.CellID != nil || sc.PCI != nil || sc.Signal.RSRP != nil || sc.Signal.RSRQ != nil || sc.Signal.SINR != nil {
		t.Errorf("no-service values must be nil: %+v", sc)
	}
}

func TestParseTelit(t *testing.T) {
	sc, imsi, err := ParseRFSTS([]string{`#RFSTS: "286 01",1795,-101,-67,-15,2242,,128,3,1,0B5D121,"286016339612498","Turkcell",3,3,108`})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Tech != TechLTE || sc.PLMN.String() != "28601" || *sc.EARFCN != 1795 || *sc.Signal.RSRP != -101 || *sc.Signal.RSRQ != -15 ||
		*sc.Area != 0x2242 || *sc.CellID != 0xB5D121 || sc.Band != "B3" || imsi.Reveal() != "286016339612498" {
		t.Errorf("RFSTS LTE: %+v imsi=%s", sc, imsi)
	}
	_, imsi, err = ParseRFSTS([]string{`#RFSTS: "310 260",66786,-101,-68,-13,2D18,255,,640,1,0,3089F02,"000000000000000","T-Mobile",3,66`})
	if err != nil || imsi != "" {
		t.Errorf("all-zero IMSI must be empty: %q %v", imsi.Reveal(), err)
	}
	sc, err = ParseSERVINFO([]string{`#SERVINFO: 1020,-61,"vodafone NL","20404",61,00DE,00,1,,"II",01,6`})
	if err != nil || sc.Tech != TechGSM || sc.PLMN.String() != "20404" || *sc.PCI != 61 || *sc.Area != 0xDE {
		t.Errorf("SERVINFO GSM: %+v %v", sc, err)
	}
}

func TestParseGSTATUS(t *testing.T) {
	lines := []string{
		"!GSTATUS: ",
		"Current Time:  444231\t\tTemperature: 32",
		"Reset Counter: 1\t\tMode:        ONLINE         ",
		"System mode:   LTE        \tPS state:    Attached     ",
		"LTE band:      B7     \t\tLTE bw:      20 MHz  ",
		"LTE Rx chan:   3110\t\tLTE Tx chan: 21110",
		"EMM state:     Registered     \tNormal Service ",
		"RRC state:     RRC Connected  ",
		"IMS reg state: No Srv  ",
		"",
		"PCC RxM RSSI:  -45\t\tRSRP (dBm):  -81",
		"PCC RxD RSSI:  -48\t\tRSRP (dBm):  -84",
		"Tx Power:      0\t\tTAC:         3d52 (15698)",
		"RSRQ (dB):     -7.5\t\tCell ID:     05BE5C21 (96361505)",
		"SINR (dB):     18.2",
	}
	sc, err := ParseGSTATUS(lines)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Tech != TechLTE || sc.State != "ONLINE" || sc.Band != "B7" || *sc.EARFCN != 3110 || *sc.Signal.RSSI != -45 ||
		*sc.Signal.RSRQ != -7.5 || *sc.Signal.SINR != 18.2 || *sc.Area != 0x3d52 || *sc.CellID != 0x05BE5C21 {
		t.Errorf("GSTATUS: %+v %+v", sc, sc.Signal)
	}
	// Both antenna lines say "RSRP (dBm)"; the main one (first) is kept.
	if *sc.Signal.RSRP != -81 {
		t.Errorf("RSRP = %v, want the PCC RxM value -81", *sc.Signal.RSRP)
	}
}

func TestParseHuaweiMONSC(t *testing.T) {
	sc, err := ParseMONSC("^MONSC: LTE,460,01,1650,A5C933,1F3,183D,-98,-5,-72")
	if err != nil {
		t.Fatal(err)
	}
	want := ServingCell{Tech: TechLTE, PLMN: PLMN{"460", "01"}, EARFCN: ptr(1650), CellID: u64(0xA5C933), PCI: ptr(0x1F3), Area: u32(0x183D),
		Signal: Signal{Tech: TechLTE, RSRP: dbm(-98), RSRQ: db(-5), RSSI: dbm(-72), Source: "^MONSC"}}
	if d := cmp.Diff(want, sc); d != "" {
		t.Error(d)
	}
	sc, err = ParseMONSC("^MONSC: GSM,460,00,1,12,49,2D54,57B2,-68,,")
	if err != nil || sc.Tech != TechGSM || *sc.Signal.RSSI != -68 || *sc.Area != 0x57B2 {
		t.Errorf("GSM: %+v %v", sc, err)
	}
}

func TestParseCounters(t *testing.T) {
	c, err := ParseQGDCNT("+QGDCNT: 3000,1000")
	if err != nil || c != (DataCounters{Sent: 3000, Received: 1000}) {
		t.Errorf("QGDCNT %+v %v", c, err)
	}
	c, err = ParseDSFLOWQRY("^DSFLOWQRY: 00000005,00000000000003E8,0000000000000BB8,00000010,00000000000007D0,0000000000001770")
	if err != nil || c != (DataCounters{Sent: 2000, Received: 6000}) {
		t.Errorf("DSFLOWQRY %+v %v", c, err)
	}
	if _, err := ParseQGDCNT("+QGDCNT: -1,5"); !errors.Is(err, ErrParse) {
		t.Errorf("negative counter: %v", err)
	}
}

func TestSignalNilNotZero(t *testing.T) {
	s, err := ParseCESQ("+CESQ: 99,99,255,255,255,255")
	if err != nil {
		t.Fatal(err)
	}
	if s.RSSI != nil || s.BER != nil || s.RSCP != nil || s.EcIo != nil || s.RSRQ != nil || s.RSRP != nil || s.Tech != TechUnknown {
		t.Errorf("all-unknown CESQ gave values: %+v", s)
	}
	s, err = ParseCSQ("+CSQ: 99,99")
	if err != nil || s.RSSI != nil || s.BER != nil {
		t.Errorf("CSQ 99,99: %+v %v", s, err)
	}
	s, err = ParseCESQ("+CESQ:10,6,255,255,255,255")
	if err != nil || *s.RSSI != -101 || s.Tech != TechGSM {
		t.Errorf("no-space CESQ: %+v %v", s, err)
	}
	s, err = ParseQCSQ(`+QCSQ: "NR5G",-85,115,-13`)
	if err != nil || *s.RSRP != -85 || *s.SINR != 3 || *s.RSRQ != -13 || s.Tech != TechNR5G {
		t.Errorf("QCSQ NR5G: %+v %v", s, err)
	}
}

func TestDialects(t *testing.T) {
	tests := []struct {
		manuf, model string
		want         Dialect
	}{
		{"Quectel", "EC25", DialectQuectel},
		{"SIMCOM INCORPORATED", "SIMCOM_SIM7600E-H", DialectSIMCom},
		{"u-blox", "SARA-R412M-02B", DialectUBlox},
		{"Telit", "LE910C1-EUX", DialectTelit},
		{"Sierra Wireless, Incorporated", "EM7455", DialectSierra},
		{"Huawei Technologies Co., Ltd.", "ME909s-120", DialectHuawei},
		{"huawei", "E1550", DialectHuawei},
		{"", "EG25", DialectQuectel},
		{"Manufacturer", "HSPA USB MODEM", DialectGeneric},
		{"Fibocom", "L850", DialectGeneric},
	}
	for _, tt := range tests {
		if got := DetectDialect(tt.manuf, tt.model); got != tt.want {
			t.Errorf("DetectDialect(%q, %q) = %v, want %v", tt.manuf, tt.model, got, tt.want)
		}
	}
	for _, d := range Dialects {
		if got, err := ParseDialect(strings.ToUpper(string(d))); err != nil || got != d {
			t.Errorf("ParseDialect(%q) = %v, %v", d, got, err)
		}
		for _, c := range d.StartupCommands() {
			u := strings.ToUpper(c)
			if strings.HasPrefix(u, "Z") || strings.HasPrefix(u, "+CFUN") || strings.Contains(u, "&W") {
				t.Errorf("%s start-up command %q resets or persists", d, c)
			}
		}
	}
	if got, _ := ParseDialect("u-blox"); got != DialectUBlox {
		t.Errorf("u-blox -> %v", got)
	}
	if _, err := ParseDialect("nokia"); err == nil {
		t.Error("ParseDialect(nokia) succeeded")
	}
}

func TestParseQNETRC(t *testing.T) {
	c, err := ParseQNETRC([]string{`+QNETRC: "emm_cause",13`, `+QNETRC: "esm_cause",0`, `+QNETRC: "5gmm_cause",0`})
	if err != nil || c["emm_cause"] != 13 || len(c) != 3 {
		t.Errorf("QNETRC %v %v", c, err)
	}
}

func TestParseErrorsMaskIdentifiers(t *testing.T) {
	_, _, err := ParseRFSTS([]string{`#RFSTS: "286 01",1795,-101,-67,-15,ZZZZ,,128,3,1,0B5D121,"286016339612498","Turkcell",3,3,108`})
	if err == nil {
		t.Fatal("bad TAC accepted")
	}
	if strings.Contains(err.Error(), "286016339612498") || !strings.Contains(err.Error(), "286016*******98") {
		t.Errorf("IMSI not masked: %v", err)
	}
	if !strings.Contains(err.Error(), "TAC") || !strings.Contains(err.Error(), "#RFSTS") {
		t.Errorf("error does not name command and field: %v", err)
	}
}

// Telit without a serving cell prints placeholders; their zeros are not an
// RSSI of 0 dBm or a cell 0, so the answer is an empty ServingCell.
func TestParseTelitNoCell(t *testing.T) {
	for _, l := range []string{
		`#RFSTS: "",0,0,0,0,0000,255,,0,0,0,0000000,"",""`,
		`#RFSTS: ,,,,,,,,,0,0,,"262011234567890","",0,`,
		`#RFSTS: "000 00",0,0,0,0,0000,255,,0,0,0,0000000,"000000000000000","",0,0`,
	} {
		sc, imsi, err := ParseRFSTS([]string{l})
		if err != nil || !cmp.Equal(sc, ServingCell{}) {
			t.Errorf("ParseRFSTS(%s) = %+v, %v; want an empty ServingCell", l, sc, err)
		}
		if strings.Contains(l, "26201") && imsi.Reveal() != "262011234567890" {
			t.Errorf("ParseRFSTS(%s): IMSI %q lost", l, imsi.Reveal())
		}
	}
	for _, l := range []string{`#SERVINFO: 0,0,"","",0,0,0,0,0`, `#SERVINFO: ,,"","",,,,0,`} {
		sc, err := ParseSERVINFO([]string{l})
		if err != nil || !cmp.Equal(sc, ServingCell{}) {
			t.Errorf("ParseSERVINFO(%s) = %+v, %v; want an empty ServingCell", l, sc, err)
		}
	}
	// WCDMA: Ec/Io with a decimal.
	sc, _, err := ParseRFSTS([]string{`#RFSTS: "262 01",10838,300,-8.5,-95,-71,01F4,00,0,64,19,0,2,0,02A3B4C,"262011234567890","Telekom.de",3,1,10838,300,-8.5`})
	if err != nil || sc.Tech != TechUMTS || sc.Signal.EcIo == nil || *sc.Signal.EcIo != -8.5 || *sc.Signal.RSCP != -95 || *sc.CellID != 0x2A3B4C {
		t.Errorf("RFSTS WCDMA: %+v, %v", sc, err)
	}
}

// One bare ATI line is the model (Telit); two are manufacturer and model
// (Quectel). Noise lines are not identity.
func TestParseATILayouts(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  Identity
	}{
		{[]string{"LE910C4-EU"}, Identity{Model: "LE910C4-EU"}},
		{[]string{"Quectel", "EC25", "Revision: EC25EFAR06A06M4G"}, Identity{Manufacturer: "Quectel", Model: "EC25", Revision: "EC25EFAR06A06M4G"}},
		{[]string{"\x0f\xc7", "Quectel", "EC25"}, Identity{Manufacturer: "Quectel", Model: "EC25"}},
		{[]string{"Manufacturer: u-blox", "Model: SARA-R412M-02B"}, Identity{Manufacturer: "u-blox", Model: "SARA-R412M-02B"}},
	} {
		got, err := ParseATI(tc.lines)
		if err != nil || got != tc.want {
			t.Errorf("ParseATI(%q) = %+v, %v; want %+v", tc.lines, got, err, tc.want)
		}
	}
	if v, err := ParseCGMI([]string{"\x0f\xc7\xbb\x81", "Quectel"}); err != nil || v != "Quectel" {
		t.Errorf("ParseCGMI with noise = %q, %v", v, err)
	}
	if _, err := ParseCGMI([]string{"\x0f\xc7\xbb\x81"}); !errors.Is(err, ErrParse) {
		t.Errorf("ParseCGMI of noise alone = %v, want ErrParse", err)
	}
}
