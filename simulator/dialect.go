package simulator

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// URCStep is one line of a URC chain, sent Delay after the previous one.
type URCStep struct {
	Delay time.Duration
	Line  string
}

// Dialect is a modem model: identity, response-shape options, extra
// commands and small hooks. Adding a vendor means registering one of these;
// the core interpreter never changes.
type Dialect struct {
	Name                string
	Manufacturer, Model string
	Revision, IMEI      string
	CGMRPrefix          string // "+CGMR: " on SIMCom, "" elsewhere
	CIMIPrefix          string // "" (27.007) or "+CIMI: " on some firmware
	DefaultCMEE         int
	CMEText             map[int]string // verbose wording overrides
	ICCIDTrailingF      bool           // a 19-digit ICCID is printed with its padding F
	CRSMQuoted          bool           // +CRSM: 144,0,"..." vs bare hex
	CGPADDRQuoted       bool
	ChannelTestError    bool   // CCHO=?/CGLA=? answer ERROR (EM05-G, FG132)
	CCHCEcho            bool   // CCHC answers "+CCHC" before OK (cuttlefish)
	COPSModes           string // tail of COPS=?: "(0,1,2,3,4),(0,1,2)"
	CEERDefault         string
	URCTerm             string                          // "\r\n"; SIMCom frames some URCs "\r\r\n"
	USB                 bool                            // CFUN=1,1 re-enumerates: the port drops
	QENGFields          int                             // 18 or 20 fields in the LTE servingcell line
	BootURCs            []URCStep                       // after power-on, before the SIM is read
	SIMReadyURCs        []URCStep                       // after +CPIN: READY
	ATI                 func(m *Modem) []string         // ATI and ATI0
	ATIn                map[int]func(m *Modem) []string // ATI<n>, n > 0; others ERROR
	CSCSDefault         string                          // +CSCS after a reset; "" is "IRA"
	CGDCONTLine         func(d *pdpDef) string
	CCHOLine            func(ch int) string
	Commands            map[string]CommandSpec // added or overriding; a nil Handle removes a core command
	// OnSIM sends the dialect's SIM status URCs (+QSIMSTAT, #QSS); it runs
	// with the modem lock held, before the 27.007 +CPIN URC of a removal
	// or insertion and right after +CPIN: READY.
	OnSIM func(m *Modem, ev SIMEvent)
	// Observe runs (lock held) whenever registration or the radio may have
	// changed, for indications such as +QIND: "csq"; it must send only what
	// changed since it last ran.
	Observe func(m *Modem)
}

// SIMEvent is a change of the card that dialects announce in their own URCs.
type SIMEvent int

// SIM events passed to Dialect.OnSIM.
const (
	SIMRemoved  SIMEvent = iota + 1 // hot swap: the card left the active slot
	SIMInserted                     // hot swap: a card was detected in it
	SIMReady                        // +CPIN: READY after an initialisation
)

// onSIM and observe call the dialect's hooks, if any. mu held.
func (m *Modem) onSIM(ev SIMEvent) {
	if m.d.OnSIM != nil {
		m.d.OnSIM(m, ev)
	}
}

func (m *Modem) observe() {
	if m.d.Observe != nil {
		m.d.Observe(m)
	}
}

// volatile returns a dialect's volatile setting (cleared by a reset), or
// def. Dialects keep their small state here rather than in the core.
func (m *Modem) volatile(key, def string) string {
	if v, ok := m.vol[key]; ok {
		return v
	}
	return def
}

func (m *Modem) setVolatile(key, v string) { m.vol[key] = v }

var (
	dialectsMu sync.RWMutex
	dialects   = map[string]*Dialect{}
)

// RegisterDialect adds a dialect under d.Name (and any aliases), filling
// unset hooks with 27.007 defaults. It panics on a duplicate name, which is
// a programming error caught at init.
func RegisterDialect(d *Dialect, aliases ...string) {
	if d.ATI == nil {
		d.ATI = func(m *Modem) []string {
			return []string{"Manufacturer: " + m.manufacturer(), "Model: " + m.model(), "Revision: " + m.revision(), "IMEI: " + m.imei(), "+GCAP: +CGSM"}
		}
	}
	if d.CGDCONTLine == nil {
		d.CGDCONTLine = func(p *pdpDef) string { return fmt.Sprintf(`+CGDCONT: %d,"%s","%s","",0,0`, p.cid, p.typ, p.apn) }
	}
	if d.CCHOLine == nil {
		d.CCHOLine = func(ch int) string { return fmt.Sprint(ch) }
	}
	if d.COPSModes == "" {
		d.COPSModes = "(0-4),(0-2)"
	}
	if d.CEERDefault == "" {
		d.CEERDefault = "No report available"
	}
	if d.URCTerm == "" {
		d.URCTerm = "\r\n"
	}
	if d.QENGFields == 0 {
		d.QENGFields = 20
	}
	dialectsMu.Lock()
	defer dialectsMu.Unlock()
	for _, n := range append([]string{d.Name}, aliases...) {
		if _, dup := dialects[n]; dup {
			panic("simulator: dialect " + n + " registered twice")
		}
		dialects[n] = d
	}
}

func lookupDialect(name string) (*Dialect, bool) {
	if name == "" {
		name = "quectel-eg25"
	}
	dialectsMu.RLock()
	defer dialectsMu.RUnlock()
	d, ok := dialects[name]
	return d, ok
}

// Dialects lists the registered dialect names.
func Dialects() []string {
	dialectsMu.RLock()
	defer dialectsMu.RUnlock()
	var out []string
	for n := range dialects {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func init() {
	RegisterDialect(&Dialect{
		Name:         "generic",
		Manufacturer: "imsid",
		Model:        "Generic 27.007 modem",
		Revision:     "SIM-1.0",
		IMEI:         "356938035643809",
		CRSMQuoted:   true,
		BootURCs:     []URCStep{{1500 * time.Millisecond, "RDY"}},
		Commands:     map[string]CommandSpec{"+WS46": {Handle: cmdWS46}},
	})
}

// volDataCall is the volatile setting (m.vol, cleared by every reset) in
// which a dialect's data-call command records the call it set up, in the
// dialect's own read syntax; empty or absent: no call.
const volDataCall = "datacall"
