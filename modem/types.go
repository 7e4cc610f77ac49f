package modem

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
)

// IMSI is an International Mobile Subscriber Identity: 6 to 15 decimal digits.
//
// String and LogValue mask it so that it never reaches a log in clear; use
// Reveal where the full value is really wanted (the wire, --reveal).
type IMSI string

// Reveal returns the digits in clear.
func (i IMSI) Reveal() string { return string(i) }

// String returns the IMSI masked: MCC+MNC (first 6 digits) and the last 2.
func (i IMSI) String() string { return maskDigits(string(i), 6, 2) }

// LogValue keeps slog from printing the IMSI in clear.
func (i IMSI) LogValue() slog.Value { return slog.StringValue(i.String()) }

// Valid reports whether i has the shape of an IMSI.
func (i IMSI) Valid() bool { return len(i) >= 6 && len(i) <= 15 && isDigits(string(i)) }

// PLMNFromPrefix returns the home PLMN assuming an MNC of mncLen (2 or 3) digits.
func (i IMSI) PLMNFromPrefix(mncLen int) PLMN {
	if len(i) < 3+mncLen {
		return PLMN{}
	}
	return PLMN{MCC: string(i[:3]), MNC: string(i[3 : 3+mncLen])}
}

// ICCID is an Integrated Circuit Card Identifier: 18 to 20 characters,
// usually decimal but some issuers use hex letters. A trailing padding F is
// never part of the value.
type ICCID string

// Reveal returns the ICCID in clear.
func (c ICCID) Reveal() string { return string(c) }

// String returns the ICCID masked: issuer prefix (first 7) and the last 3.
func (c ICCID) String() string { return maskDigits(string(c), 7, 3) }

// LogValue keeps slog from printing the ICCID in clear.
func (c ICCID) LogValue() slog.Value { return slog.StringValue(c.String()) }

func maskDigits(s string, head, tail int) string {
	if s == "" {
		return ""
	}
	if len(s) <= head+tail {
		return strings.Repeat("*", len(s))
	}
	return s[:head] + strings.Repeat("*", len(s)-head-tail) + s[len(s)-tail:]
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// PLMN is a Public Land Mobile Network identity. The MNC keeps its length:
// "01" and "001" are different networks.
type PLMN struct {
	MCC string // 3 digits
	MNC string // 2 or 3 digits
}

// ParsePLMN parses "310260", "310 260", "310-260" or "26201".
// A 5-character numeric is read as MCC+2-digit MNC, 6 as MCC+3-digit MNC.
func ParsePLMN(s string) (PLMN, error) {
	s = strings.Trim(strings.TrimSpace(s), `"`)
	s = strings.NewReplacer(" ", "", "-", "").Replace(s)
	if (len(s) != 5 && len(s) != 6) || !isDigits(s) {
		return PLMN{}, fmt.Errorf("modem: bad PLMN %q", s)
	}
	return PLMN{MCC: s[:3], MNC: s[3:]}, nil
}

// String returns the numeric form, e.g. "310260".
func (p PLMN) String() string { return p.MCC + p.MNC }

// IsZero reports whether p is unset.
func (p PLMN) IsZero() bool { return p.MCC == "" && p.MNC == "" }

// SIMState is the SIM's state as +CPIN and the SIM-related CME errors report it.
type SIMState int

// SIM states.
const (
	SIMUnknown         SIMState = iota
	SIMReady                    // +CPIN: READY
	SIMNotReady                 // +CPIN: NOT READY (initialising, refresh)
	SIMNotInserted              // CME 10
	SIMBusy                     // CME 14
	SIMFailure                  // CME 13 (also: powered down in CFUN=0)
	SIMPIN                      // SIM PIN / PH-SIM PIN
	SIMPUK                      // SIM PUK
	SIMPIN2                     // SIM PIN2
	SIMPUK2                     // SIM PUK2
	SIMPersonalisation          // PH-NET PIN and the other personalisation locks
)

var simStateNames = [...]string{"unknown", "ready", "not_ready", "not_inserted", "busy", "failure", "pin_required", "puk_required", "pin2_required", "puk2_required", "locked"}

func (s SIMState) String() string {
	if int(s) < len(simStateNames) && s >= 0 {
		return simStateNames[s]
	}
	return fmt.Sprintf("SIMState(%d)", int(s))
}

// RegStatus is a 3GPP TS 27.007 registration status (<stat>), values as on the wire.
type RegStatus int

// Registration statuses (27.007 §7.2/§10.1.19/§10.1.22).
const (
	RegNotRegistered         RegStatus = 0
	RegHome                  RegStatus = 1
	RegSearching             RegStatus = 2
	RegDenied                RegStatus = 3
	RegUnknown               RegStatus = 4
	RegRoaming               RegStatus = 5
	RegHomeSMSOnly           RegStatus = 6
	RegRoamingSMSOnly        RegStatus = 7
	RegEmergencyOnly         RegStatus = 8
	RegHomeCSFBNotPreferred  RegStatus = 9
	RegRoamingCSFBNotPreferd RegStatus = 10
	RegRLOS                  RegStatus = 11
)

// Registered reports whether the status means the UE has service (home or roaming, any flavour).
func (s RegStatus) Registered() bool {
	switch s {
	case RegHome, RegRoaming, RegHomeSMSOnly, RegRoamingSMSOnly, RegHomeCSFBNotPreferred, RegRoamingCSFBNotPreferd:
		return true
	}
	return false
}

// Roaming reports whether the status is one of the roaming forms.
func (s RegStatus) Roaming() bool {
	return s == RegRoaming || s == RegRoamingSMSOnly || s == RegRoamingCSFBNotPreferd
}

// Summary maps the status onto the five words the CLI and API use:
// home | roaming | searching | denied | not_registered | unknown.
func (s RegStatus) Summary() string {
	switch {
	case s.Roaming():
		return "roaming"
	case s.Registered():
		return "home"
	case s == RegSearching:
		return "searching"
	case s == RegDenied:
		return "denied"
	case s == RegNotRegistered, s == RegEmergencyOnly:
		return "not_registered"
	}
	return "unknown"
}

func (s RegStatus) String() string { return s.Summary() }

// Domain names the registration command a Registration came from.
type Domain int

// Registration domains.
const (
	DomainCS  Domain = iota // +CREG
	DomainPS                // +CGREG
	DomainEPS               // +CEREG
	Domain5GS               // +C5GREG
)

var domainCmds = [...]string{"+CREG", "+CGREG", "+CEREG", "+C5GREG"}

// Command returns the AT command of the domain, e.g. "+CEREG".
func (d Domain) Command() string {
	if int(d) < len(domainCmds) && d >= 0 {
		return domainCmds[d]
	}
	return ""
}

func (d Domain) String() string { return strings.TrimPrefix(d.Command(), "+") }

// AcT is a 27.007 access technology value as on the wire (COPS, CREG, ...).
type AcT int

// Access technologies (27.007 §7.3).
const (
	ActGSM        AcT = 0
	ActGSMCompact AcT = 1
	ActUTRAN      AcT = 2
	ActEGPRS      AcT = 3
	ActHSDPA      AcT = 4
	ActHSUPA      AcT = 5
	ActHSPA       AcT = 6
	ActEUTRAN     AcT = 7
	ActECGSMIoT   AcT = 8
	ActNBIoT      AcT = 9
	ActEUTRA5GCN  AcT = 10
	ActNR5GCN     AcT = 11
	ActNGRAN      AcT = 12
	ActEUTRANRDC  AcT = 13
	ActUnknown    AcT = -1
)

// Tech maps the AcT to the technology family.
func (a AcT) Tech() Tech {
	switch a {
	case ActGSM, ActGSMCompact, ActEGPRS:
		return TechGSM
	case ActECGSMIoT:
		// 27.007 Rel-13 assigns 8 to EC-GSM-IoT, but the Cat-M modems in the
		// field (Quectel BG96, Telit ME910C1) report LTE Cat-M1 as 8. Reading
		// it as 2G would raise a downgrade alarm on every Cat-M gateway, while
		// EC-GSM-IoT is barely deployed, so 8 is LTE-M.
		return TechLTEM
	case ActUTRAN, ActHSDPA, ActHSUPA, ActHSPA:
		return TechUMTS
	case ActEUTRAN, ActEUTRA5GCN:
		return TechLTE
	case ActNBIoT:
		return TechNBIoT
	case ActNR5GCN, ActNGRAN:
		return TechNR5G
	case ActEUTRANRDC:
		return TechNR5GNSA
	}
	return TechUnknown
}

// Tech is a radio technology family as the CLI and API show it.
type Tech string

// Technology families.
const (
	TechUnknown Tech = ""
	TechGSM     Tech = "GSM"
	TechUMTS    Tech = "UMTS"
	TechLTE     Tech = "LTE"
	TechNBIoT   Tech = "NB-IoT"
	TechLTEM    Tech = "LTE-M"
	TechNR5G    Tech = "NR5G"
	TechNR5GNSA Tech = "NR5G-NSA"
)

// Is2G reports whether t is a 2G technology (the IMSI-catcher downgrade target).
func (t Tech) Is2G() bool { return t == TechGSM }

// DBm is a power level in dBm.
type DBm float64

// DB is a ratio in dB.
type DB float64

// Signal is what the modem reports about radio quality. A nil field is a
// value the modem did not report (99/255 unknowns become nil, not zero).
type Signal struct {
	Tech Tech
	RSSI *DBm // received signal strength (GSM rxlev / LTE RSSI)
	RSCP *DBm // UMTS
	EcIo *DB  // UMTS
	RSRP *DBm // LTE/NR
	RSRQ *DB  // LTE/NR
	SINR *DB  // LTE/NR
	BER  *int // 0..7 RxQual
	// Source names the command the values came from ("+CESQ", "+CSQ", "+QENG", ...).
	Source string
}

// Registration is one registration status report (solicited read or URC).
type Registration struct {
	Domain Domain
	Status RegStatus
	// LAC or TAC; nil when not reported.
	Area *uint32
	// Cell identity (28 bits LTE, 36 bits NR); nil when not reported.
	CellID *uint64
	AcT    *AcT
	// RAC (CGREG) when reported.
	RAC *uint32
	// Reject cause (n=3): cause type 0 = EMM/MM/GMM, 1 = manufacturer specific.
	RejectCauseType *int
	RejectCause     *int
}

// Operator is the answer to +COPS?.
type Operator struct {
	Mode int // 0 auto, 1 manual, 2 deregistered, 3 set-format, 4 manual/auto
	PLMN PLMN
	Name string
	AcT  *AcT
}

// NetworkEntry is one network in a +COPS=? scan.
type NetworkEntry struct {
	Stat      int // 0 unknown, 1 available, 2 current, 3 forbidden
	LongName  string
	ShortName string
	PLMN      PLMN
	AcT       *AcT
}

// Identity is what the modem says about itself.
type Identity struct {
	Manufacturer string
	Model        string
	Revision     string
	IMEI         string
}

// ServingCell is the vendor view of the serving cell (QENG, CPSI, UCGED, RFSTS, GSTATUS, ...).
type ServingCell struct {
	Tech   Tech
	State  string // vendor state word: NOCONN, CONNECT, SEARCH, LIMSRV, Online, ...
	PLMN   PLMN
	Area   *uint32 // TAC or LAC
	CellID *uint64
	PCI    *int
	EARFCN *int // or UARFCN/ARFCN for the technology
	Band   string
	Signal Signal
}

// Neighbour is one neighbour cell.
type Neighbour struct {
	Tech   Tech
	EARFCN *int
	PCI    *int
	Signal Signal
}

// PDPContext is one +CGDCONT definition.
type PDPContext struct {
	CID  int
	Type string // IP, IPV6, IPV4V6, PPP, Non-IP
	APN  string
}

// PDPAddress is one +CGPADDR answer; Addrs excludes 0.0.0.0 and the all-zero IPv6.
type PDPAddress struct {
	CID   int
	Addrs []netip.Addr
}

// DataCounters are bytes sent and received as the modem counts them.
type DataCounters struct {
	Sent, Received uint64
}
