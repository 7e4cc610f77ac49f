package modem

import (
	"fmt"
	"strings"
	"testing"
)

// Every parser must survive any input: no panic, no hang, and either a
// value or an error. Where the wire format is simple enough, a property
// checks that what we format parses back to the documented value.

// seedLines adds the reference responses whose command contains one of
// the words, plus extra seeds, as "\n"-joined corpus entries.
func seedLines(f *testing.F, words []string, extra ...string) {
	for _, tc := range loadResponses(f) {
		for _, w := range words {
			if strings.Contains(tc.Command, w) {
				f.Add(strings.Join(infoLines(tc.ResponseLines), "\n"))
				break
			}
		}
	}
	for _, e := range extra {
		f.Add(e)
	}
}

func fuzzLines(s string) []string { return strings.Split(s, "\n") }

func FuzzParseRegistration(f *testing.F) {
	seedLines(f, []string{"REG", "unsolicited", "COPS=0", "COPS=1"},
		`+CEREG: 2,1, 1F00, 79D903 ,7`, `+CREG: 2,,`, `+CREG: 001,"0001","0010",000`,
		`+CGREG: 1,"1422","00000142",3,"00"`, `+C5GREG: 2,1,1F00,79D903,11,6,ABCDEF`,
		`+CEREG: 3,3,"2046","07ba7016",7,0,15`, `+CREG: 2,1,  0 5, 2715`, `+CEREG: "`, `+CREG:`,
		`+CREG: 2,1,"FFFE","23E3E34",7`, `+CREG: 2,1,"FFFF","6D310D",13`, `+CGREG: 2,5,"0000","0A2B3C4",7`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, l := range fuzzLines(s) {
			reg, _, err := ParseRegistration(l)
			if err == nil && (reg.Status < 0 || reg.Status > 11) {
				t.Fatalf("%q: status %d out of range", l, reg.Status)
			}
			if err == nil && (reg.Domain == DomainCS || reg.Domain == DomainPS) && reg.Area != nil && reg.AcT != nil &&
				onLTEorNR(*reg.AcT) && noLAC(*reg.Area) {
				t.Fatalf("%q: placeholder LAC %#x on LTE kept as an area", l, *reg.Area)
			}
			if err == nil {
				ServiceRegistration([]Registration{reg})
			}
			IsRegistrationRead(l)
		}
	})
}

// FuzzRegistrationRoundTrip formats URC and read lines in the common
// shapes and checks they parse back to the same values and shape.
func FuzzRegistrationRoundTrip(f *testing.F) {
	f.Add(uint8(1), uint16(0xDE10), uint32(0x5A29C0B), uint8(7), true, true, uint8(2))
	f.Add(uint8(5), uint16(0x8BE3), uint32(0x2BAF), uint8(0), false, false, uint8(3))
	f.Fuzz(func(t *testing.T, stat uint8, lac uint16, ci uint32, act uint8, quoted, withN bool, n uint8) {
		stat, act, n = stat%12, act%14, n%4
		ci &= 0x0FFFFFFF
		q := ""
		if quoted {
			q = `"`
		}
		loc := fmt.Sprintf("%s%04X%s,%s%07X%s,%d", q, lac, q, q, ci, q, act)
		line := fmt.Sprintf("+CEREG: %d,%s", stat, loc)
		if withN {
			line = fmt.Sprintf("+CEREG: %d,%d,%s", n, stat, loc)
		}
		reg, hasN, err := ParseRegistration(line)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if hasN != withN {
			t.Fatalf("%q: read shape %v, want %v", line, hasN, withN)
		}
		if reg.Status != RegStatus(stat) || reg.Area == nil || *reg.Area != uint32(lac) ||
			reg.CellID == nil || *reg.CellID != uint64(ci) || reg.AcT == nil || *reg.AcT != AcT(act) {
			t.Fatalf("%q: got %+v", line, reg)
		}
	})
}

func FuzzParseCSQ(f *testing.F) {
	f.Add(20, 99, "")
	f.Add(31, 2, "")
	f.Add(0, 0, "+CSQ: ,")
	f.Fuzz(func(t *testing.T, rssi, ber int, raw string) {
		ParseCSQ(raw)
		s, err := ParseCSQ(fmt.Sprintf("+CSQ: %d,%d", rssi, ber))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case rssi >= 0 && rssi <= 31:
			if s.RSSI == nil || float64(*s.RSSI) != float64(-113+2*rssi) {
				t.Fatalf("rssi %d -> %v, want %d dBm", rssi, norm(s.RSSI), -113+2*rssi)
			}
		case s.RSSI != nil:
			t.Fatalf("rssi %d -> %v, want nil", rssi, *s.RSSI)
		}
		if (ber >= 0 && ber <= 7) != (s.BER != nil) {
			t.Fatalf("ber %d -> %v", ber, norm(s.BER))
		}
	})
}

func FuzzParseCESQ(f *testing.F) {
	f.Add(99, 99, 255, 255, 20, 80, "+CESQ:10,6,255,255,255,255")
	f.Fuzz(func(t *testing.T, rxlev, ber, rscp, ecno, rsrq, rsrp int, raw string) {
		ParseCESQ(raw)
		s, err := ParseCESQ(fmt.Sprintf("+CESQ: %d,%d,%d,%d,%d,%d", rxlev, ber, rscp, ecno, rsrq, rsrp))
		if err != nil {
			t.Fatal(err)
		}
		if rsrp >= 0 && rsrp <= 97 {
			if s.RSRP == nil || float64(*s.RSRP) != float64(-141+rsrp) {
				t.Fatalf("rsrp %d -> %v", rsrp, norm(s.RSRP))
			}
		} else if s.RSRP != nil {
			t.Fatalf("rsrp %d -> %v, want nil", rsrp, *s.RSRP)
		}
		if rsrq >= 0 && rsrq <= 34 {
			if s.RSRQ == nil || float64(*s.RSRQ) != -20+0.5*float64(rsrq) {
				t.Fatalf("rsrq %d -> %v", rsrq, norm(s.RSRQ))
			}
		} else if s.RSRQ != nil {
			t.Fatalf("rsrq %d -> %v, want nil", rsrq, *s.RSRQ)
		}
		if rxlev >= 0 && rxlev <= 63 {
			if s.RSSI == nil || float64(*s.RSSI) != float64(-111+rxlev) {
				t.Fatalf("rxlev %d -> %v", rxlev, norm(s.RSSI))
			}
		} else if s.RSSI != nil {
			t.Fatalf("rxlev %d -> %v, want nil", rxlev, *s.RSSI)
		}
	})
}

func FuzzParseQCSQ(f *testing.F) {
	seedLines(f, []string{"QCSQ"}, `+QCSQ: "NOSERVICE"`, `+QCSQ: "NR5G",-85,115,-13`, `+QCSQ:`)
	f.Fuzz(func(t *testing.T, s string) {
		if sig, err := ParseQCSQ(s); err == nil && sig.SINR != nil && (*sig.SINR < -20 || *sig.SINR > 30) {
			t.Fatalf("%q: SINR %v outside raw 0..250", s, *sig.SINR)
		}
	})
}

func FuzzParseHCSQ(f *testing.F) {
	seedLines(f, []string{"HCSQ"}, `^HCSQ: "WCDMA",30,30,58`, `^HCSQ: "GSM",255`)
	f.Fuzz(func(t *testing.T, s string) { ParseHCSQ(s) })
}

func FuzzParseCPIN(f *testing.F) {
	for _, s := range []string{"+CPIN: READY", `+CPIN: "SIM PIN"`, "+CPIN: NOT READY", "+CPIN: PH-NET PIN", "+CPIN:", "+CPIN: SIM PUK2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { ParseCPIN(s) })
}

func FuzzParseCFUN(f *testing.F) {
	f.Add("+CFUN: 1")
	f.Add("+CFUN: 4,0")
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseCFUN(s); err == nil && n < 0 {
			t.Fatalf("%q -> %d", s, n)
		}
	})
}

func FuzzParseIMSI(f *testing.F) {
	f.Add("460083265908345")
	f.Add("+CIMI: 310260123456789")
	f.Add("+CIMI: \"00101\"")
	f.Fuzz(func(t *testing.T, s string) {
		if v, err := ParseIMSI(fuzzLines(s)); err == nil && !v.Valid() {
			t.Fatalf("%q -> invalid IMSI %q", s, v.Reveal())
		}
	})
}

func FuzzParseICCID(f *testing.F) {
	for _, s := range []string{"+QCCID: 89860436101892671308", "+QCCID: 8901260886258128535F", "+QCCID: 898604B2012290748345",
		`+CCID: "89620160002701055486"`, `+CCID: "89148000000637720260",""`, "+ICCID: 8901260881206806423", "^ICCID: 98680031", "89014103211118510720"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := ParseICCID(fuzzLines(s))
		if err == nil && (len(v) < 18 || len(v) > 20 || strings.HasSuffix(string(v), "F")) {
			t.Fatalf("%q -> %q", s, v.Reveal())
		}
	})
}

func FuzzParseATI(f *testing.F) {
	seedLines(f, []string{"ATI", "CGMI", "CGMM", "CGMR", "CGSN", "GSN"},
		"SIM7000G R1529", "Manufacturer: SIMCOM INCORPORATED\nModel: SIMCOM_SIM7000G\nRevision: SIM7000G R1529\nIMEI: 869951031234567",
		"0001767746", "Revision:1529B04SIM7000G")
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := ParseATI(fuzzLines(s)); err == nil {
			for _, v := range []string{id.Manufacturer, id.Model} {
				if v != "" && !plausibleText(v) {
					t.Fatalf("%q -> ATI value %q", s, v)
				}
			}
		}
		if v, err := ParseCGMI(fuzzLines(s)); err == nil && !plausibleText(v) {
			t.Fatalf("%q -> manufacturer %q", s, v)
		}
		ParseCGMR(fuzzLines(s))
		if v, err := ParseIMEI(fuzzLines(s)); err == nil && !isDigits(v) {
			t.Fatalf("%q -> IMEI %q", s, v)
		}
		DetectDialect(s, s)
		// What classifyFinal passes on must end the command inside at.
		if fin, ok := classifyFinal(s); ok && !(fin == "OK" || strings.HasPrefix(fin, "ERROR") ||
			strings.HasPrefix(fin, "+CME ERROR:") || strings.HasPrefix(fin, "+CMS ERROR:")) {
			t.Fatalf("%q: final result %q that at would not take as one", s, fin)
		}
	})
}

func FuzzParseCOPS(f *testing.F) {
	for _, s := range []string{`+COPS: 0,0,"Telekom.de",13`, `+COPS: 0,2,"26201",13`, `+COPS: 0`, `+COPS: 1,2,"00320031003400300037",7`, `+COPS: 0,1,""`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { ParseCOPS(s) })
}

func FuzzParseCOPSTest(f *testing.F) {
	seedLines(f, []string{"COPS=?"}, "+COPS: (1,\"AT&T\",,\"310410\",0),\n(2,\"T\",\"T\",\"31026\",2),,(0,1,3),(0,2)", `+COPS: (1,"a","b","1234567",2)`)
	f.Fuzz(func(t *testing.T, s string) {
		nets, err := ParseCOPSTest(fuzzLines(s))
		for _, n := range nets {
			if err == nil && (len(n.PLMN.MCC) != 3 || len(n.PLMN.MNC) < 2) {
				t.Fatalf("%q: bad PLMN %+v", s, n.PLMN)
			}
		}
	})
}

func FuzzParseCGDCONT(f *testing.F) {
	seedLines(f, []string{"CGDCONT"}, `+CGDCONT: 1,"IPV4V6","","0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0",0,0,0,0,,,,,,,,,,`, `+CGDCONT: (1-16),"IP",,,(0-2),(0-4)`)
	f.Fuzz(func(t *testing.T, s string) { ParseCGDCONT(fuzzLines(s)) })
}

func FuzzParseCGACT(f *testing.F) {
	seedLines(f, []string{"SCACT"}, "+CGACT: 1,1\n+CGACT: 2,0")
	f.Fuzz(func(t *testing.T, s string) {
		ParseCGACT(fuzzLines(s))
		ParseSCACT(fuzzLines(s))
	})
}

func FuzzParseCGPADDR(f *testing.F) {
	for _, s := range []string{`+CGPADDR: 1,"10.36.130.14"`, `+CGPADDR: 1,10.83.214.110`, `+CGPADDR: 1,"10.0.0.1","32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.1"`, `+CGPADDR: 1,"0.0.0.0"`, `+CGPADDR: 2,"2001:db8::1"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := ParseCGPADDR(fuzzLines(s))
		if err != nil {
			return
		}
		for _, p := range out {
			for _, a := range p.Addrs {
				if !a.IsValid() || a.IsUnspecified() {
					t.Fatalf("%q: address %v", s, a)
				}
			}
		}
	})
}

func FuzzParseQENG(f *testing.F) {
	for _, s := range []string{
		`+QENG: "servingcell","NOCONN","LTE","FDD",460,01,5F1EA15,12,1650,3,5,5,DE10,-100,-12,-68,11,-,-,27`,
		`+QENG: "servingcell","NOCONN","LTE","FDD",310,260,1452808,315,5035,12,2,2,3AFD,-104,-11,-78,12,20`,
		`+QENG: "servingcell","NOCONN","WCDMA",440,10,75,6FE0090,10736,58,0,-78,-3,-,-,-,-,-`,
		`+QENG: "servingcell","NOCONN","GSM",460,00,247C,1327,35,82,-,-52,255,255,0,53,179,1,-,-,-,-,-,-,-,-,-,"-"`,
		`+QENG: "servingcell","SEARCH"`,
		"+QENG: \"servingcell\",\"NOCONN\"\n+QENG: \"LTE\",\"FDD\",262,01,1A2B3C4,100,1300,3,5,5,ABCD,-95,-10,-65,12,-,-,30\n+QENG:\"NR5G-NSA\",262,01,500,-90,15,-11,627264,78,12,1",
		`+QENG: "neighbourcell intra","LTE",38950,276,-3,-88,-65,0,37,7,16,6,44`,
		`+QENG: "neighbourcell inter","LTE",39148,-,-,-,-,-,37,0,30,7`,
		`+QENG: "servingcell","NOCONN","NR5G-SA","TDD",454,12,199F24001,171,DE5,630048,78,12,-96,-11,15,1,-`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseQENG(fuzzLines(s), SINRdB)
		ParseQENG(fuzzLines(s), SINRRaw5)
	})
}

func FuzzParseCPSI(f *testing.F) {
	for _, s := range []string{
		"+CPSI: LTE,Online,228-02,0x9CA4,20964868,46,EUTRAN-BAND20,6200,3,3,-178,-1089,-742,8",
		"+CPSI: LTE CAT-M1,Online,505-01,0x2036,134523149,238,EUTRAN-BAND28,9410,5,5,-20,-116,-82,6",
		"+CPSI: WCDMA,Online,252-02,0x2612,-294967296,WCDMA IMT 2000,437,10687,0,-3,-83,-32768,-83,-15",
		"+CPSI: NO SERVICE,Online", "+CPSI: GSM,Online,460-00,0x182d,12401,27 EGSM900,-64,2110,42-42",
		"+CPSI: LTE,Online,310-260,0x3F29,89815063,125,EUTRAN-BAND12,5035,2,2,21,67,255,19",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, err := ParseCPSI(s)
		if err == nil && sc.Signal.RSRP != nil && (*sc.Signal.RSRP > 0 || *sc.Signal.RSRP < -250) {
			t.Fatalf("%q: RSRP %v", s, *sc.Signal.RSRP)
		}
	})
}

func FuzzParseUCGED(f *testing.F) {
	seedLines(f, []string{"UCGED"}, "+UCGED: 2\n6,2,fff,fff\n65535,255,255,255,ffff,0000000,65535,00000000,ffff,ff,255,255,255,255,255,255,255", "+UCGED: 0")
	f.Fuzz(func(t *testing.T, s string) { ParseUCGED(fuzzLines(s)) })
}

func FuzzParseRFSTS(f *testing.F) {
	for _, s := range []string{
		`#RFSTS: "286 01",1795,-101,-67,-15,2242,,128,3,1,0B5D121,"286016339612498","Turkcell",3,3,108`,
		`#RFSTS: "310 260",66786,-101,-68,-13,2D18,255,,640,1,0,3089F02,"000000000000000","T-Mobile",3,66`,
		`#RFSTS: "222 01",62,-71,5C5B,00,0,1,0,0,5B81,"222013000000000","I TIM",3,2`,
		`#RFSTS: "",0,0,0,0,0000,255,,0,0,0,0000000,"",""`,
		`#RFSTS: ,,,,,,,,,0,0,,"262011234567890","",0,`,
		`#RFSTS: "262 01",10838,300,-8.5,-95,-71,01F4,00,0,64,19,0,2,0,02A3B4C,"262011234567890","Telekom.de",3,1,10838,300,-8.5`,
		`#RFSTS: ,32767,-47,,,19,27,,,"204000090288415","",0,2`,
		`#RFSTS: "204 08",14,-80,0CBC,00,19,11,,BEE9,"204000090192154","NL KPN",0,2`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sc, imsi, err := ParseRFSTS(fuzzLines(s))
		if err == nil && imsi != "" && !imsi.Valid() {
			t.Fatalf("%q: IMSI %q", s, imsi.Reveal())
		}
		if err == nil && sc.Tech == TechUnknown && (sc.CellID != nil || sc.Signal.RSSI != nil) {
			t.Fatalf("%q: values without a cell: %+v", s, sc)
		}
	})
}

func FuzzParseSERVINFO(f *testing.F) {
	seedLines(f, []string{"SERVINFO"}, `#SERVINFO: 66786,-68,"T-Mobile","310260",3089F02,2D18,640,3,-101`, `#SERVINFO: 1020,-61,"vodafone NL","20404",61,00DE,00,1,,"II",01,6`, `#SERVINFO: ,,"","",,,,0,`)
	f.Fuzz(func(t *testing.T, s string) { ParseSERVINFO(fuzzLines(s)) })
}

func FuzzParseGSTATUS(f *testing.F) {
	f.Add("!GSTATUS:\nCurrent Time:  444231\t\tTemperature: 32\nReset Counter: 1\t\tMode:        ONLINE\nSystem mode:   LTE        \tPS state:    Attached\nLTE band:      B7     \t\tLTE bw:      20 MHz\nLTE Rx chan:   3110\t\tLTE Tx chan: 21110\nEMM state:     Registered     \tNormal Service\nRRC state:     RRC Connected\nPCC RxM RSSI:  -45\t\tRSRP (dBm):  -81")
	f.Add("!GSTATUS:\nMode:  ONLINE   System mode: WCDMA   PS state: Attached")
	f.Fuzz(func(t *testing.T, s string) { ParseGSTATUS(fuzzLines(s)) })
}

func FuzzParseSYSINFOEX(f *testing.F) {
	seedLines(f, []string{"SYSINFO"})
	f.Fuzz(func(t *testing.T, s string) {
		ParseSYSINFOEX(s)
		ParseSYSINFO(s)
	})
}

func FuzzParseMONSC(f *testing.F) {
	for _, s := range []string{"^MONSC: LTE,460,00,38950,94EF884,142,57B2,-96,-8,-67", "^MONSC: GSM,460,00,1,12,49,2D54,57B2,-68,,", "^MONSC: NR,460,01,1650,1,AB12345678,1F3,1234AB,-80,-10,32", "^MONSC: NONE"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { ParseMONSC(s) })
}

func FuzzParseCounters(f *testing.F) {
	for _, s := range []string{"+QGDCNT: 3000,1000", "+UGCNTRD: 1,100,200,1000,2000", "^DSFLOWQRY: 00000005,00000000000003E8,0000000000000BB8,00000010,00000000000007D0,0000000000001770", "#GDATAVOL: 1,3000,1000,2000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseQGDCNT(s)
		ParseUGCNTRD(fuzzLines(s))
		ParseDSFLOWQRY(s)
		ParseGDATAVOL(fuzzLines(s))
	})
}

func FuzzParseMisc(f *testing.F) {
	for _, s := range []string{"+QUIMSLOT: 1", "+QUSIMSLOT: 2", `+QNWINFO: "FDD LTE",46001,"LTE BAND 3",1650`, "+QNWINFO: No Service",
		"+CEER: No cause information available", `+QCFG: "nwscanmode",3`, "+CNMP: 38", "+URAT: 7,8", "+WS46: 28", "#QSS: 0,3", "!SELRAT: 06, LTE Only", `+QNETRC: "emm_cause",7`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if n, err := ParseQUIMSLOT(s); err == nil && n != 1 && n != 2 {
			t.Fatalf("%q -> slot %d", s, n)
		}
		ParseQNWINFO(s)
		ParseCEER(fuzzLines(s))
		ParseQCFG(fuzzLines(s), "nwscanmode")
		ParseCNMP(s)
		ParseURAT(s)
		ParseWS46(s)
		ParseQSS(s)
		ParseSELRAT(fuzzLines(s))
		ParseQNETRC(fuzzLines(s))
		ParseDialect(s)
		ParseRATMode(s)
	})
}
