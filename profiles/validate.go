package profiles

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

type validator struct {
	*decoder
	base string
	bad  []string // paths that already failed to decode
}

func (v *validator) fail(path, format string, args ...any) {
	for _, b := range v.bad {
		if related(path, b) {
			return
		}
	}
	v.add(v.line(path), path, format, args...)
}

// related reports whether one path is the other or contains it.
func related(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	return a == "" || b == a || strings.HasPrefix(b, a+".") || strings.HasPrefix(b, a+"[")
}

// has reports whether path was written in the file (not left at a default).
func (v *validator) has(path string) bool { _, ok := v.lines[path]; return ok }

// finish fills values derived from other fields, before validation.
func (v *validator) finish(c *Config) {
	dir := filepath.Dir(v.base)
	for _, p := range []*string{&c.StateDir, &c.API.Socket, &c.API.TokenFile, &c.API.TLSCert, &c.API.TLSKey,
		&c.Upstream.TokenFile, &c.Upstream.HMACKey, &c.Upstream.CAFile} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	if l := c.API.Listen; l != "" {
		if _, err := strconv.Atoi(l); err == nil {
			c.API.Listen = "127.0.0.1:" + l
		} else if strings.HasPrefix(l, ":") {
			c.API.Listen = "127.0.0.1" + l
		}
	}
	for i := range c.Profiles {
		p := &c.Profiles[i]
		if p.APN == "" && (c.SIM.Method == MethodApplet || c.SIM.Method == MethodAutonomous) {
			p.APN = c.SIM.APN
		}
		cost := &p.Cost
		for _, m := range []*Money{&cost.PerMB, &cost.PerMonth, &cost.RoamingPerMB} {
			if cost.Currency == "" && m.Currency != "" {
				cost.Currency = m.Currency
			}
		}
		for _, m := range []*Money{&cost.PerMB, &cost.PerMonth, &cost.RoamingPerMB} {
			if m.Currency == "" {
				m.Currency = cost.Currency
			}
		}
	}
}

var (
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	apnRE  = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
	swRE   = regexp.MustCompile(`^[0-9A-F]{2}([0-9A-F]{2}|XX)$`)
	hostRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$`)
)

var standardBauds = map[int]bool{9600: true, 19200: true, 38400: true, 57600: true, 115200: true,
	230400: true, 460800: true, 921600: true, 1000000: true, 3000000: true, 4000000: true}

func (v *validator) validate(c *Config) {
	v.modem(&c.Modem)
	v.sim(c)
	v.profiles(c)
	v.policy(c)
	v.api(&c.API)
	v.upstream(&c.Upstream)
	v.link(&c.Link)
	if c.StateDir == "" {
		v.fail("state_dir", "required")
	}
	if c.PersistEvery < Duration(10*time.Second) || c.PersistEvery > Duration(time.Hour) {
		v.fail("persist_every", "%s: want 10s to 1h", c.PersistEvery)
	}
}

func (v *validator) modem(m *Modem) {
	switch {
	case m.Device == "":
		v.fail("modem.device", "required (a /dev/serial/by-id/... path survives re-enumeration)")
	case !filepath.IsAbs(m.Device):
		v.fail("modem.device", "must be an absolute path, got %q", m.Device)
	}
	if !standardBauds[m.Baud] {
		v.fail("modem.baud", "%d is not a standard baud rate (e.g. 115200)", m.Baud)
	}
}

func (v *validator) sim(c *Config) {
	s := &c.SIM
	if s.Method == "" {
		v.fail("sim.method", "required: one of applet, euicc, slot, autonomous")
		return
	}
	if s.APN != "" {
		if s.Method != MethodApplet && s.Method != MethodAutonomous {
			v.fail("sim.apn", "a shared APN is only for the applet and autonomous methods; set apn on each profile")
		} else if !apnRE.MatchString(s.APN) || len(s.APN) > 100 {
			v.fail("sim.apn", "%q is not a valid APN", s.APN)
		}
	}
	if s.Method != MethodApplet && v.has("sim.applet") {
		v.fail("sim.applet", "only used with method applet (method is %s)", s.Method)
	}
	if s.Method != MethodEUICC && v.has("sim.euicc") {
		v.fail("sim.euicc", "only used with method euicc (method is %s)", s.Method)
	}
	switch s.Method {
	case MethodApplet:
		a := &s.Applet
		if n := len(a.AID); n < 5 || n > 16 {
			v.fail("sim.applet.aid", "an AID is 5 to 16 bytes, got %d", n)
		}
		v.apdu("sim.applet.activate_apdu", a.ActivateAPDU, a.AID, true)
		if len(a.ExpectSW) == 0 {
			v.fail("sim.applet.expect_sw", "at least one status word is required, e.g. 9000")
		}
		for i, sw := range a.ExpectSW {
			if !swRE.MatchString(sw) {
				v.fail(fmt.Sprintf("sim.applet.expect_sw[%d]", i), "want 4 upper-case hex digits, the last two may be XX (e.g. 9000, 61XX), got %q", sw)
			}
		}
	}
}

// ExpandAPDU fills an APDU template: {index} becomes the index as one hex
// byte, {aid} the AID and {aid_len} its length as one hex byte.
func ExpandAPDU(tmpl string, aid []byte, index int) string {
	r := strings.NewReplacer(
		"{index}", fmt.Sprintf("%02X", index&0xFF),
		"{aid}", fmt.Sprintf("%X", aid),
		"{aid_len}", fmt.Sprintf("%02X", len(aid)&0xFF),
		" ", "")
	return strings.ToUpper(r.Replace(tmpl))
}

func (v *validator) apdu(path, tmpl string, aid []byte, needIndex bool) {
	if tmpl == "" {
		v.fail(path, "required")
		return
	}
	if needIndex && !strings.Contains(tmpl, "{index}") {
		v.fail(path, "must contain the {index} placeholder")
		return
	}
	x := ExpandAPDU(tmpl, aid, 0)
	if strings.ContainsAny(x, "{}") {
		v.fail(path, "unknown placeholder; only {index}, {aid} and {aid_len} are known")
		return
	}
	if len(x)%2 != 0 || !isHex(x) || len(x) < 8 || len(x) > 2*261 {
		v.fail(path, "want a 4- to 261-byte APDU in hex once placeholders are filled, got %q", x)
	}
}

func (v *validator) profiles(c *Config) {
	if len(c.Profiles) == 0 {
		v.fail("profiles", "at least one profile is required")
		return
	}
	names := map[string]string{}
	indexes := map[int]string{}
	slots := map[int]string{}
	iccids := map[ICCID]string{}
	prios := map[int]string{}
	currency, currencyAt := "", ""
	m := c.SIM.Method
	for i := range c.Profiles {
		p := &c.Profiles[i]
		at := fmt.Sprintf("profiles[%d]", i)
		f := func(field string) string { return at + "." + field }

		switch {
		case p.Name == "":
			v.fail(f("name"), "required")
		case !nameRE.MatchString(p.Name):
			v.fail(f("name"), "%q: use 1-32 of a-z, 0-9, '-' and '_', starting with a letter or digit (it is typed on the CLI)", p.Name)
		case names[p.Name] != "":
			v.fail(f("name"), "%q already used by %s", p.Name, names[p.Name])
		default:
			names[p.Name] = at
		}

		// The selector must be the one the method uses, and unique.
		forbid := func(field string, set bool) {
			if set {
				v.fail(f(field), "not used with method %s", m)
			}
		}
		unique := func(field string, seen map[int]string, x int) {
			if prev, dup := seen[x]; dup {
				v.fail(f(field), "%d already used by %s", x, prev)
			}
			seen[x] = at
		}
		switch m {
		case MethodApplet, MethodAutonomous:
			forbid("slot", p.Slot != nil)
			if p.Index == nil && m == MethodApplet {
				v.fail(f("index"), "required with method applet: the applet's IMSI index")
			}
			if p.Index != nil {
				if *p.Index < 0 || *p.Index > 255 {
					v.fail(f("index"), "must be 0-255, got %d", *p.Index)
				} else {
					unique("index", indexes, *p.Index)
				}
			}
			if m == MethodAutonomous && p.IMSIPrefix == "" && p.ICCID == "" {
				v.fail(at, "imsi_prefix or iccid is required with method autonomous, to recognise the profile the applet picked")
			}
		case MethodEUICC:
			forbid("index", p.Index != nil)
			forbid("slot", p.Slot != nil)
			if p.ICCID == "" {
				v.fail(f("iccid"), "required with method euicc: the eUICC profile to enable")
			} else {
				if prev, dup := iccids[p.ICCID]; dup {
					v.fail(f("iccid"), "already used by %s", prev)
				}
				iccids[p.ICCID] = at
			}
		case MethodSlot:
			forbid("index", p.Index != nil)
			if p.Slot == nil {
				v.fail(f("slot"), "required with method slot: the SIM slot, from 1")
			} else if *p.Slot < 1 || *p.Slot > 8 {
				v.fail(f("slot"), "must be 1-8, got %d", *p.Slot)
			} else {
				unique("slot", slots, *p.Slot)
			}
		}
		if m == MethodAutonomous && p.IMSIPrefix != "" {
			for j := range i {
				if q := c.Profiles[j]; q.IMSIPrefix != "" && (strings.HasPrefix(string(p.IMSIPrefix), string(q.IMSIPrefix)) || strings.HasPrefix(string(q.IMSIPrefix), string(p.IMSIPrefix))) {
					v.fail(f("imsi_prefix"), "overlaps profiles[%d].imsi_prefix: an observed IMSI must identify one profile", j)
				}
			}
		}

		switch {
		case p.APN == "" && (m == MethodApplet || m == MethodAutonomous):
			v.fail(f("apn"), "required (or set sim.apn for all profiles)")
		case p.APN == "":
			v.fail(f("apn"), "required")
		case !v.has(f("apn")) && p.APN == c.SIM.APN:
			// Inherited from sim.apn, which is checked on its own line.
		case len(p.APN) > 100 || !apnRE.MatchString(p.APN):
			v.fail(f("apn"), "%q is not a valid APN (dot-separated labels of letters, digits and '-')", p.APN)
		}
		if p.APNAuth == AuthNone && (p.APNUser != "" || p.APNPassword != "") {
			v.fail(f("apn_auth"), "apn_user/apn_password are set but apn_auth is none; set pap, chap or pap-chap")
		}
		if p.APNAuth != AuthNone && p.APNUser == "" {
			v.fail(f("apn_user"), "required when apn_auth is %s", p.APNAuth)
		}

		if len(p.PLMNs) == 0 && len(p.MCCs) == 0 {
			v.fail(at, "plmns or mccs is required: the networks this profile may register on")
		}
		dupCheck(v, f("plmns"), p.PLMNs)
		dupCheck(v, f("mccs"), p.MCCs)

		if len(p.RATs) == 0 {
			v.fail(f("rats"), "at least one RAT is required")
		}
		dupCheck(v, f("rats"), p.RATs)
		for j, r := range p.RATs {
			switch {
			case r == RATGSM && !c.Policy.Site.Legacy2GLive:
				v.fail(fmt.Sprintf("%s.rats[%d]", at, j), "gsm is allowed only where 2G is still live (policy.site.legacy_2g_live: true); 2G has no mutual authentication")
			case r == RATUMTS && !c.Policy.Site.Legacy3GLive:
				v.fail(fmt.Sprintf("%s.rats[%d]", at, j), "umts is allowed only where 3G is still live (policy.site.legacy_3g_live: true)")
			}
		}

		cost := &p.Cost
		if cost.Currency != "" && !isCurrency(cost.Currency) {
			v.fail(f("cost.currency"), "want a 3-letter ISO 4217 code such as EUR, got %q", cost.Currency)
		}
		for _, mf := range []struct {
			name string
			m    Money
		}{{"per_mb", cost.PerMB}, {"per_month", cost.PerMonth}, {"roaming_per_mb", cost.RoamingPerMB}} {
			switch {
			case !mf.m.IsZero() && mf.m.Currency == "":
				v.fail(f("cost."+mf.name), "no currency: write e.g. \"%s EUR\" or set cost.currency", mf.m)
			case mf.m.Currency != "" && mf.m.Currency != cost.Currency:
				v.fail(f("cost."+mf.name), "currency %s differs from the profile's %s", mf.m.Currency, cost.Currency)
			}
		}
		if cost.Currency != "" {
			if currency == "" {
				currency, currencyAt = cost.Currency, at
			} else if cost.Currency != currency {
				v.fail(f("cost.currency"), "%s differs from %s used by %s: costs must be comparable", cost.Currency, currency, currencyAt)
			}
		}
		if p.BillingDay < 1 || p.BillingDay > 28 {
			v.fail(f("billing_day"), "must be 1-28 (every month has it), got %d", p.BillingDay)
		}
		if p.Priority < 1 || p.Priority > 1000 {
			v.fail(f("priority"), "must be 1-1000, got %d", p.Priority)
		} else if prev, dup := prios[p.Priority]; dup {
			v.fail(f("priority"), "%d already used by %s: equal priorities would make the choice depend on list order", p.Priority, prev)
		} else {
			prios[p.Priority] = at
		}
	}
}

func dupCheck[T comparable](v *validator, path string, xs []T) {
	seen := map[T]bool{}
	for i, x := range xs {
		if seen[x] {
			v.fail(fmt.Sprintf("%s[%d]", path, i), "duplicate %v", x)
		}
		seen[x] = true
	}
}

// MinDuration is the shortest value each timer accepts (MinTimer for the
// ones not listed): below it a poll floods the modem or the fleet, or a
// window is too short to mean anything. `heartbeat: 1ns` once made ~157
// fsync'd upstream posts a second.
var MinDuration = map[string]time.Duration{
	"policy.probes.interval":                       3 * time.Second, // a router's fastest documented check (field survey)
	"policy.probes.timeout":                        500 * time.Millisecond,
	"policy.switch_cap.window":                     time.Minute,
	"policy.threats.window":                        time.Minute,
	"policy.threats.d1b_rat_lock.check":            time.Minute,
	"policy.threats.baseline_learning":             time.Minute,
	"policy.threats.d4_cell_identity.accept_after": time.Minute,
	"upstream.heartbeat":                           30 * time.Second,
	"upstream.advisory_poll":                       time.Minute,
}

// MinTimer is the floor of every timer MinDuration does not name.
const MinTimer = time.Second

// positive checks a timer: positive, and not below its floor.
func (v *validator) positive(path string, d Duration) {
	floor, ok := MinDuration[path]
	if !ok {
		floor = MinTimer
	}
	switch {
	case d <= 0:
		v.fail(path, "must be a positive duration, got %s", d)
	case d < Duration(floor):
		v.fail(path, "%s is too short: at least %s", d, Duration(floor))
	}
}

func (v *validator) between(path string, x, lo, hi float64, unit string) {
	if x < lo || x > hi {
		v.fail(path, "must be between %g and %g %s, got %g", lo, hi, unit, x)
	}
}

func (v *validator) atLeast(path string, n, lo int) {
	if n < lo {
		v.fail(path, "must be at least %d, got %d", lo, n)
	}
}

func (v *validator) policy(c *Config) {
	p := &c.Policy
	pr := &p.Probes
	if len(pr.HTTP) == 0 && len(pr.ICMP) == 0 {
		v.fail("policy.probes", "at least one http or icmp probe target is required: switches are verified with them")
	}
	for i, s := range pr.HTTP {
		path := fmt.Sprintf("policy.probes.http[%d]", i)
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.fail(path, "want an http:// or https:// URL, got %q", s)
		}
	}
	for i, h := range pr.ICMP {
		if _, err := netip.ParseAddr(h); err != nil && (!hostRE.MatchString(h) || len(h) > 253) {
			v.fail(fmt.Sprintf("policy.probes.icmp[%d]", i), "want an IP address or host name, got %q", h)
		}
	}
	v.positive("policy.probes.interval", pr.Interval)
	v.positive("policy.probes.timeout", pr.Timeout)
	if pr.Timeout > 0 && pr.Interval > 0 && pr.Timeout >= pr.Interval {
		v.fail("policy.probes.timeout", "%s must be shorter than policy.probes.interval (%s)", pr.Timeout, pr.Interval)
	}
	v.atLeast("policy.probes.failures_to_down", pr.FailuresToDown, 1)
	v.positive("policy.probes.retry", pr.Retry)
	if pr.Retry > 0 && pr.Interval > 0 && pr.Retry > pr.Interval {
		v.fail("policy.probes.retry", "%s must not be longer than policy.probes.interval (%s)", pr.Retry, pr.Interval)
	}

	t := &p.Thresholds
	v.between("policy.thresholds.rsrp_floor", float64(t.RSRPFloor), -140, -44, "dBm")
	v.between("policy.thresholds.rsrp_good", float64(t.RSRPGood), -140, -44, "dBm")
	if t.RSRPGood <= t.RSRPFloor {
		v.fail("policy.thresholds.rsrp_good", "%g must be above rsrp_floor (%g)", float64(t.RSRPGood), float64(t.RSRPFloor))
	}
	v.between("policy.thresholds.sinr_floor", float64(t.SINRFloor), -20, 30, "dB")
	v.between("policy.thresholds.sinr_good", float64(t.SINRGood), -20, 30, "dB")
	if t.SINRGood <= t.SINRFloor {
		v.fail("policy.thresholds.sinr_good", "%g must be above sinr_floor (%g)", float64(t.SINRGood), float64(t.SINRFloor))
	}
	v.between("policy.thresholds.rssi_floor", float64(t.RSSIFloor), -120, -25, "dBm")
	v.between("policy.thresholds.hysteresis", float64(t.Hysteresis), 0, 30, "dB")

	v.positive("policy.signal_poll", p.SignalPoll)
	v.positive("policy.min_dwell", p.MinDwell)
	v.atLeast("policy.switch_cap.max", p.SwitchCap.Max, 1)
	v.positive("policy.switch_cap.window", p.SwitchCap.Window)
	v.positive("policy.verify_deadline", p.VerifyDeadline)
	if p.VerifyDeadline > 0 && p.VerifyDeadline <= pr.Timeout {
		v.fail("policy.verify_deadline", "%s leaves no time for a probe (policy.probes.timeout is %s)", p.VerifyDeadline, pr.Timeout)
	}
	v.positive("policy.quarantine.base", p.Quarantine.Base)
	v.positive("policy.quarantine.max", p.Quarantine.Max)
	if p.Quarantine.Base > p.Quarantine.Max {
		v.fail("policy.quarantine.max", "%s is shorter than policy.quarantine.base (%s)", p.Quarantine.Max, p.Quarantine.Base)
	}
	if p.AppletHoldoff < 0 {
		v.fail("policy.applet_holdoff", "must not be negative")
	}
	v.positive("policy.no_service_trigger", p.NoServiceTrigger)
	if fb := p.FailBack; fb.ScanEvery != 0 {
		// A scan holds the modem for 30-180 s; more often than every
		// minute it would crowd out everything else.
		if fb.ScanEvery < Duration(time.Minute) {
			v.fail("policy.fail_back.scan_every", "%s is too often for a network scan: at least 1m, or 0 to turn the scans off", fb.ScanEvery)
		}
		if fb.Max < fb.ScanEvery {
			v.fail("policy.fail_back.max", "%s is shorter than policy.fail_back.scan_every (%s)", fb.Max, fb.ScanEvery)
		}
	} else if fb.Max < 0 {
		v.fail("policy.fail_back.max", "must not be negative")
	}

	s := &p.Site
	if s.CountryMCC == "" {
		v.fail("policy.site.country_mcc", "required: the MCC of the country the gateway is in")
	}
	dupCheck(v, "policy.site.border_mccs", s.BorderMCCs)
	dupCheck(v, "policy.site.regions", s.Regions)
	for i, r := range s.Regions {
		if !regionName(r) {
			v.fail(fmt.Sprintf("policy.site.regions[%d]", i), "region %q: want 1-64 of A-Z a-z 0-9 . _ : -", r)
		}
	}
	if s.TimeZone != "" && (strings.HasPrefix(s.TimeZone, "/") || strings.Contains(s.TimeZone, "..") || strings.ContainsAny(s.TimeZone, " \\")) {
		v.fail("policy.site.time_zone", "want an IANA zone name such as Europe/Berlin, got %q", s.TimeZone)
	}

	th := &p.Threats
	v.positive("policy.threats.window", th.Window)
	if !(0 < th.Watch && th.Watch < th.Suspect && th.Suspect < th.Threat) {
		v.fail("policy.threats", "tiers must rise: 0 < watch (%g) < suspect (%g) < threat (%g)", th.Watch, th.Suspect, th.Threat)
	}
	v.positive("policy.threats.suppress_after_switch", th.SuppressAfterSwitch)
	v.positive("policy.threats.alert_interval", th.AlertInterval)
	v.positive("policy.threats.baseline_learning", th.BaselineLearning)
	v.atLeast("policy.threats.baseline_min_observations", th.BaselineMinObservations, 1)
	d := "policy.threats."
	v.positive(d+"d1_downgrade.within", th.D1.Within)
	v.between(d+"d1_downgrade.good_rsrp", float64(th.D1.GoodRSRP), -140, -44, "dBm")
	v.between(d+"d1_downgrade.good_sinr", float64(th.D1.GoodSINR), -20, 30, "dB")
	v.positive(d+"d1b_rat_lock.check", th.D1b.Check)
	v.atLeast(d+"d2_plmn.max_changes_per_hour", th.D2.MaxChangesPerHour, 1)
	v.positive(d+"d3_rejects.recovery_backoff", th.D3.RecoveryBackoff)
	v.atLeast(d+"d3_rejects.max_recoveries_per_day", th.D3.MaxRecoveries, 0)
	v.atLeast(d+"d4_cell_identity.polls", th.D4.Polls, 1)
	v.positive(d+"d4_cell_identity.accept_after", th.D4.AcceptAfter)
	v.positive(d+"d5_unknown_cell.transient", th.D5.Transient)
	v.positive(d+"d5_unknown_cell.return_window", th.D5.ReturnWindow)
	if th.D5.ReturnWindow <= th.D5.Transient {
		v.fail(d+"d5_unknown_cell.return_window", "must be longer than transient (%s)", th.D5.Transient)
	}
	v.between(d+"d6_signal.known_cell_delta", float64(th.D6.KnownCellDelta), 1, 60, "dB")
	v.between(d+"d6_signal.unknown_cell_margin", float64(th.D6.UnknownCellMargin), 1, 60, "dB")
	v.between(d+"d6_signal.unknown_cell_max", float64(th.D6.UnknownCellMax), -140, -25, "dBm")
	v.atLeast(d+"d7_neighbours.empty_polls", th.D7.EmptyPolls, 1)
	v.between(d+"d7_neighbours.min_rsrp", float64(th.D7.MinRSRP), -140, -44, "dBm")
	v.positive(d+"d8_jamming.urc_hold", th.D8.URCHold)
	v.between(d+"d8_jamming.min_rsrp", float64(th.D8.MinRSRP), -140, -44, "dBm")
	v.between(d+"d8_jamming.max_sinr", float64(th.D8.MaxSINR), -20, 30, "dB")
	v.between(d+"d8_jamming.max_rsrq", float64(th.D8.MaxRSRQ), -20, -3, "dB")
	v.between(d+"d8_jamming.sinr_drop", float64(th.D8.SINRDrop), 1, 50, "dB")
	v.atLeast(d+"d8_jamming.polls", th.D8.Polls, 1)
	v.positive(d+"d8_jamming.blackout_window", th.D8.BlackoutFor)
	v.atLeast(d+"d9_churn.short_count", th.D9.ShortCount, 1)
	v.positive(d+"d9_churn.short_window", th.D9.ShortWindow)
	v.atLeast(d+"d9_churn.long_count", th.D9.LongCount, 1)
	v.positive(d+"d9_churn.long_window", th.D9.LongWindow)
	if th.D9.LongWindow <= th.D9.ShortWindow {
		v.fail(d+"d9_churn.long_window", "must be longer than short_window (%s)", th.D9.ShortWindow)
	}
	v.positive(d+"d9_churn.release_within", th.D9.ReleaseWithin)
}

func (v *validator) api(a *API) {
	if a.Socket == "" {
		v.fail("api.socket", "required")
	}
	if a.SocketMode&0o600 != 0o600 {
		v.fail("api.socket_mode", "%04o leaves the daemon's own user without read/write access", uint32(a.SocketMode))
	}
	if a.SocketMode&0o007 != 0 {
		v.fail("api.socket_mode", "%04o gives access to every local user; use 0660 and a group", uint32(a.SocketMode))
	}
	if a.Listen != "" {
		host, port, err := net.SplitHostPort(a.Listen)
		n, perr := strconv.Atoi(port)
		shaped := false
		if err != nil || perr != nil || n < 1 || n > 65535 {
			v.fail("api.listen", "want host:port or a port, got %q", a.Listen)
		} else if _, err := netip.ParseAddr(host); err != nil && host != "localhost" {
			v.fail("api.listen", "want an IP address to bind, got %q", host)
		} else {
			shaped = true
		}
		if a.TokenFile == "" {
			v.fail("api.token_file", "required when api.listen is set: TCP requests need a bearer token")
		}
		if !a.TokenForReads && len(a.Hosts) == 0 {
			v.fail("api.token_for_reads", "public reads on TCP need api.hosts, the names clients use to reach the listener (it stops DNS rebinding)")
		}
		if a.TLSCert == "" && !a.InsecurePlaintext && shaped && !isLoopback(host) {
			v.fail("api.listen", "%s is not a loopback address: set api.tls_cert and api.tls_key (or insecure_plaintext: true to send the token in clear)", a.Listen)
		}
	}
	for i, h := range a.Hosts {
		if !hostRE.MatchString(h) {
			if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err != nil {
				v.fail(fmt.Sprintf("api.hosts[%d]", i), "%q is not a host name or IP address (no port)", h)
			}
		}
	}
	if len(a.Hosts) > 0 && a.Listen == "" {
		v.fail("api.hosts", "applies to the TCP listener; set api.listen")
	}
	if (a.TLSCert == "") != (a.TLSKey == "") {
		v.fail("api.tls_cert", "tls_cert and tls_key go together")
	}
	if a.TLSCert != "" && a.Listen == "" {
		v.fail("api.tls_cert", "TLS applies to the TCP listener; set api.listen")
	}
}

func (v *validator) upstream(u *Upstream) {
	if len(u.AdvisoryKey) > 0 && publicTestKey(u.AdvisoryKey) {
		v.fail("upstream.advisory_key", "this is a published test key (RFC 8032 or imsid's tests): anyone can sign advisories with it; use the fleet's own key")
	}
	ids, keys := map[string]int{}, map[string]string{}
	if len(u.AdvisoryKey) > 0 {
		keys[string(u.AdvisoryKey)] = "upstream.advisory_key"
	}
	for i, k := range u.AdvisoryKeys {
		path := fmt.Sprintf("upstream.advisory_keys[%d]", i)
		switch {
		case !regionName(k.ID):
			v.fail(path+".id", "want 1-64 of [A-Za-z0-9._:-], got %q", k.ID)
		case ids[k.ID] > 0:
			v.fail(path+".id", "%q already names upstream.advisory_keys[%d]", k.ID, ids[k.ID]-1)
		}
		ids[k.ID] = i + 1
		switch {
		case len(k.Key) == 0:
			v.fail(path+".key", "required")
		case publicTestKey(k.Key):
			v.fail(path+".key", "this is a published test key (RFC 8032 or imsid's tests): anyone can sign advisories with it")
		case keys[string(k.Key)] != "":
			v.fail(path+".key", "the same key as %s", keys[string(k.Key)])
		}
		keys[string(k.Key)] = path + ".key"
	}
	if u.DeviceID != "" && (!regionName(u.DeviceID) || placeholder(u.DeviceID)) {
		v.fail("upstream.device_id", "want 1-64 of [A-Za-z0-9._:-], not a placeholder, got %q", u.DeviceID)
	}
	if u.URL == "" {
		return
	}
	if u.HashIdentities && placeholder(string(u.FleetSalt)) {
		v.fail("upstream.fleet_salt", "a placeholder, not a salt: the same value everywhere would let anyone reverse the hashes; use a random one per fleet (head -c 24 /dev/urandom | base64)")
	}
	p, err := url.Parse(u.URL)
	switch {
	case err != nil || p.Host == "" || (p.Scheme != "https" && p.Scheme != "http"):
		v.fail("upstream.url", "want an https:// URL, got %q", u.URL)
	case p.Scheme == "http" && !isLoopback(p.Hostname()):
		v.fail("upstream.url", "plain http is only allowed to a loopback address; use https")
	}
	switch u.Auth {
	case AuthBearer:
		if u.TokenFile == "" {
			v.fail("upstream.token_file", "required with auth bearer")
		}
	case AuthHMAC:
		if u.HMACKey == "" {
			v.fail("upstream.hmac_key_file", "required with auth hmac")
		}
	}
	if u.HashIdentities && len(u.FleetSalt) < 16 {
		v.fail("upstream.fleet_salt", "at least 16 characters are required to hash IMSI/ICCID (or set hash_identities: false)")
	}
	if u.BatchSize < 1 || u.BatchSize > 1000 {
		v.fail("upstream.batch_size", "must be 1-1000, got %d", u.BatchSize)
	}
	if u.OutboxMax < u.BatchSize {
		v.fail("upstream.outbox_max", "%d is smaller than batch_size (%d)", u.OutboxMax, u.BatchSize)
	}
	v.positive("upstream.heartbeat", u.Heartbeat)
	v.positive("upstream.timeout", u.Timeout)
	v.positive("upstream.advisory_poll", u.AdvisoryPoll)
}

// testKeySeeds are the private keys of published ed25519 test vectors
// (RFC 8032 section 7.1: TEST 1, 2, 3, 1024 and SHA(abc)) and of imsid's own
// tests: their public keys verify signatures anyone can make.
var testKeySeeds = []string{
	"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
	"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
	"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
	"f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
	"833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
	hex.EncodeToString([]byte("imsid-advisory-test-key-32-bytes")),
}

func publicTestKey(k PublicKey) bool {
	for _, s := range testKeySeeds {
		seed, err := hex.DecodeString(s)
		if err != nil || len(seed) != ed25519.SeedSize {
			continue
		}
		if bytes.Equal(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey), k) {
			return true
		}
	}
	return false
}

// placeholderWords mark a value copied from an example rather than chosen.
var placeholderWords = []string{"changeme", "change-me", "change_me", "replaceme", "replace-me", "replace_me",
	"placeholder", "example", "your-", "your_", "todo", "xxxx"}

// placeholder reports whether s looks like an example value: a placeholder
// word, or one character repeated.
func placeholder(s string) bool {
	l := strings.ToLower(s)
	for _, w := range placeholderWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return len(s) > 0 && strings.Count(s, s[:1]) == len(s)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// regionName matches the upstream advisory format for region keys.
func regionName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == ':', r == '-':
		default:
			return false
		}
	}
	return true
}
