package modem

import (
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// ParseCGDCONT reads the +CGDCONT? answer, one context per line. Lines may
// stop after the APN (SIMCom) or carry many trailing empty fields (Fibocom).
// Test-form lines ("+CGDCONT: (1-16),...") are skipped.
func ParseCGDCONT(lines []string) ([]PDPContext, error) {
	out := []PDPContext{}
	for _, l := range lines {
		rest, ok := cutPrefix(l, "+CGDCONT:")
		if !ok || strings.HasPrefix(rest, "(") {
			continue
		}
		fs := splitFields(rest)
		cid, err := atoi(fs[0].s)
		if err != nil || cid < 0 {
			return nil, perr("+CGDCONT", "cid", l, "%v", err)
		}
		if len(fs) < 2 {
			return nil, perr("+CGDCONT", "PDP_type", l, "missing")
		}
		out = append(out, PDPContext{CID: cid, Type: fs[1].s, APN: fieldAt(fs, 2).s})
	}
	return out, nil
}

// parseCIDStates reads "<prefix> <cid>,<state>" lines (+CGACT?, Sierra !SCACT?).
func parseCIDStates(lines []string, prefix string) (map[int]bool, error) {
	out := map[int]bool{}
	for _, l := range lines {
		rest, ok := cutPrefix(l, prefix)
		if !ok {
			continue
		}
		fs := splitFields(rest)
		if len(fs) < 2 {
			return nil, perr(strings.TrimSuffix(prefix, ":"), "", l, "want <cid>,<state>")
		}
		cid, err := atoi(fs[0].s)
		if err != nil || cid < 0 {
			return nil, perr(strings.TrimSuffix(prefix, ":"), "cid", l, "%v", err)
		}
		st, err := atoi(fs[1].s)
		if err != nil || st < 0 || st > 1 {
			return nil, perr(strings.TrimSuffix(prefix, ":"), "state", l, "want 0 or 1")
		}
		out[cid] = st == 1
	}
	return out, nil
}

// ParseCGACT reads the +CGACT? answer: one "+CGACT: <cid>,<state>" per context.
func ParseCGACT(lines []string) (map[int]bool, error) { return parseCIDStates(lines, "+CGACT:") }

// ParseSCACT reads Sierra's "!SCACT: <cid>,<state>" lines, same shape as +CGACT.
func ParseSCACT(lines []string) (map[int]bool, error) { return parseCIDStates(lines, "!SCACT:") }

// parsePDPAddr reads one address as modems print it: dotted IPv4, IPv6 in
// colon form, or IPv6 as 16 dotted decimal octets. An IPv4V6 answer may be
// both in one field separated by a space. Unspecified addresses are dropped.
func parsePDPAddr(s string) ([]netip.Addr, bool) {
	var out []netip.Addr
	for _, part := range strings.Fields(s) {
		var a netip.Addr
		if parts := strings.Split(part, "."); len(parts) == 16 || len(parts) == 20 || len(parts) == 32 {
			// 16 octets: IPv6; 20: IPv4+IPv6 glued (some Quectel); 32: v6 addr+mask.
			var b []byte
			for _, p := range parts {
				n, err := strconv.ParseUint(p, 10, 8)
				if err != nil {
					return nil, false
				}
				b = append(b, byte(n))
			}
			switch len(b) {
			case 16, 32:
				a = netip.AddrFrom16([16]byte(b[:16]))
			case 20:
				v4 := netip.AddrFrom4([4]byte(b[:4]))
				if !v4.IsUnspecified() {
					out = append(out, v4)
				}
				a = netip.AddrFrom16([16]byte(b[4:]))
			}
		} else {
			var err error
			if a, err = netip.ParseAddr(part); err != nil {
				return nil, false
			}
		}
		if a.IsValid() && !a.IsUnspecified() {
			out = append(out, a)
		}
	}
	return out, true
}

// ParseCGPADDR reads "+CGPADDR: <cid>[,<addr1>[,<addr2>]]" lines, quoted
// or bare addresses, sorted by cid.
func ParseCGPADDR(lines []string) ([]PDPAddress, error) {
	out := []PDPAddress{}
	for _, l := range lines {
		rest, ok := cutPrefix(l, "+CGPADDR:")
		if !ok || strings.HasPrefix(rest, "(") {
			continue
		}
		fs := splitFields(rest)
		cid, err := atoi(fs[0].s)
		if err != nil || cid < 0 {
			return nil, perr("+CGPADDR", "cid", l, "%v", err)
		}
		pa := PDPAddress{CID: cid}
		for _, f := range fs[1:] {
			if f.s == "" {
				continue
			}
			addrs, ok := parsePDPAddr(f.s)
			if !ok {
				return nil, perr("+CGPADDR", "address", l, "not an IP address")
			}
			pa.Addrs = append(pa.Addrs, addrs...)
		}
		out = append(out, pa)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CID < out[j].CID })
	return out, nil
}
