package modem

// Registration lines come in two shapes that begin alike: the read answer
// "+CEREG: <n>,<stat>[,<tac>,<ci>[,<AcT>]]" and the URC "+CEREG: <stat>[,...]".
// Real modems blur the line further: some send the read shape as a URC
// (Sony-Ericsson MD400, Altair), some quote the location and some do not, so
// the shape of the line decides, not where it came from.

// regDomainOf returns the domain and the prefix of a registration line.
func regDomainOf(line string) (Domain, string, bool) {
	for _, d := range []Domain{DomainEPS, DomainPS, Domain5GS, DomainCS} {
		if rest, ok := cutPrefix(line, d.Command()+":"); ok {
			return d, rest, true
		}
	}
	return 0, "", false
}

// IsRegistrationLine reports whether line is a +CREG/+CGREG/+CEREG/+C5GREG line.
func IsRegistrationLine(line string) bool {
	_, _, ok := regDomainOf(line)
	return ok
}

// IsRegistrationRead reports whether a registration line has the shape of
// the answer to a read (<n> first), which the engine must not mistake for a
// URC when the AT library hands it to both.
func IsRegistrationRead(line string) bool {
	_, rest, ok := regDomainOf(line)
	if !ok {
		return false
	}
	return regHasN(splitFields(rest))
}

// statLike reports whether an unquoted field can be a <stat> (0..11, maybe
// zero padded) rather than a LAC/TAC.
func statLike(f field) bool {
	if f.quoted || f.s == "" || len(f.s) > 3 || !isDigits(f.s) {
		return false
	}
	n, err := atoi(f.s)
	return err == nil && n <= 11
}

// regHasN decides whether the first field is <n> (read shape).
func regHasN(fs []field) bool {
	switch {
	case len(fs) <= 1:
		return false
	case len(fs) == 2:
		return true
	case fs[1].quoted:
		return false
	case fs[2].quoted:
		return true
	case fs[1].s == "":
		return false // "+CREG: 2,," (Novatel XU870 URC, stat with an empty location)
	}
	// Unquoted location: "+CREG: 2,1,8BE3,2BAF" (read) against
	// "+CREG: 1,84CD,00D30156" or "+CREG: 1,0001,0010,0" (URC). A LAC/TAC
	// is written with 4+ hex digits; a stat never is.
	n := fs[0]
	if !statLike(fs[1]) {
		return false
	}
	if !isDigits(n.s) || len(n.s) > 3 {
		return false
	}
	v, _ := atoi(n.s)
	return v <= 5
}

// ParseRegistration parses any registration line, classifying its shape.
// hasN reports whether it was the read shape.
func ParseRegistration(line string) (reg Registration, hasN bool, err error) {
	dom, rest, ok := regDomainOf(line)
	if !ok {
		return Registration{}, false, perr("registration", "", line, "not a +CREG/+CGREG/+CEREG/+C5GREG line")
	}
	fs := splitFields(rest)
	hasN = regHasN(fs)
	reg, err = parseRegFields(dom, fs, hasN, line)
	return reg, hasN, err
}

// ParseRegistrationURC parses an unsolicited registration line such as
// "+CEREG: 1,\"DE10\",\"5A29C0B\",7". Firmware that sends the read shape as a
// URC is handled: the shape decides.
func ParseRegistrationURC(line string) (Registration, error) {
	reg, _, err := ParseRegistration(line)
	return reg, err
}

// ParseRegistrationRead parses the answer to AT+CxREG? such as
// "+CEREG: 2,1,\"DE10\",\"5A29C0B\",7".
func ParseRegistrationRead(line string) (Registration, error) {
	reg, _, err := ParseRegistration(line)
	return reg, err
}

func parseRegFields(dom Domain, fs []field, hasN bool, line string) (Registration, error) {
	cmd := dom.Command()
	reg := Registration{Domain: dom}
	if hasN {
		n := fs[0]
		if _, err := atoi(n.s); err != nil {
			return reg, perr(cmd, "n", line, "%v", err)
		}
		fs = fs[1:]
	}
	st, err := atoi(fieldAt(fs, 0).s)
	if err != nil || st < 0 || st > 11 {
		if err == nil {
			return reg, perr(cmd, "stat", line, "out of range: %d", st)
		}
		return reg, perr(cmd, "stat", line, "%v", err)
	}
	reg.Status = RegStatus(st)
	if reg.Area, err = optHex32(fieldAt(fs, 1).s); err != nil {
		return reg, perr(cmd, "lac/tac", line, "%v", err)
	}

	// Novatel/Alcatel put a RAC-like extra field between TAC and CI in
	// CEREG ("2,1, 1F00, 20 ,79D903 ,7"): detect it by the field count and
	// its short length.
	ciIdx := 2
	if dom == DomainEPS && len(fs) == 5 && !fs[2].quoted && len(fs[2].s) <= 2 && len(fs[3].s) > 2 {
		ciIdx = 3
	}
	if reg.CellID, err = optHex64(fieldAt(fs, ciIdx).s); err != nil {
		return reg, perr(cmd, "ci", line, "%v", err)
	}
	rest := fs
	if len(rest) > ciIdx+1 {
		rest = rest[ciIdx+1:]
	} else {
		rest = nil
	}
	// rest: <AcT>[,<rac>(CGREG)][,<cause_type>,<reject_cause>]...
	if a, err := optInt(fieldAt(rest, 0).s); err == nil && a != nil && *a >= 0 && *a <= 13 {
		reg.AcT = ptr(AcT(*a))
	} else if err != nil && !(dom == DomainCS && len(rest) > 1) {
		// Samsung S8500 adds junk after CI on CREG; ignore unparseable
		// trailing fields there, but an AcT that is not a number elsewhere
		// is a real error.
		return reg, perr(cmd, "AcT", line, "%v", err)
	}
	if len(rest) > 0 {
		rest = rest[1:]
	}
	switch dom {
	case DomainPS:
		if r := fieldAt(rest, 0); r.s != "" {
			if v, err := optHex32(r.s); err == nil {
				reg.RAC = v
			}
		}
		if len(rest) > 0 {
			rest = rest[1:]
		}
	case Domain5GS:
		// <Allowed_NSSAI_length>,<Allowed_NSSAI> come before the cause.
		if len(rest) >= 2 {
			rest = rest[2:]
		} else {
			rest = nil
		}
	}
	ct, err1 := optInt(fieldAt(rest, 0).s)
	rc, err2 := optInt(fieldAt(rest, 1).s)
	if err1 == nil && err2 == nil && ct != nil && rc != nil {
		reg.RejectCauseType, reg.RejectCause = ct, rc
	}
	if (dom == DomainCS || dom == DomainPS) && reg.Area != nil && reg.AcT != nil && onLTEorNR(*reg.AcT) && noLAC(*reg.Area) {
		reg.Area = nil
	}
	return reg, nil
}

// onLTEorNR reports whether a is an E-UTRAN or NR access technology.
func onLTEorNR(a AcT) bool {
	switch a {
	case ActEUTRAN, ActNBIoT, ActEUTRA5GCN, ActNR5GCN, ActNGRAN, ActEUTRANRDC:
		return true
	}
	return false
}

// noLAC reports whether the LAC a +CREG/+CGREG line carries on LTE or NR
// is a "no location area" placeholder: there is no LAC there, and modems
// fill the field with FFFE, FFFF or 0000 (FFFE and 0000 are the reserved
// values of 3GPP TS 23.003). Shown as a TAC it would be a lie, so the
// Registration has no Area; the TAC is +CEREG's. Off LTE/NR, and in
// +CEREG/+C5GREG, the value stays as the modem wrote it.
func noLAC(v uint32) bool { return v == 0 || v == 0xFFFE || v == 0xFFFF }

// ServiceRegistration picks, from what Registrations returned, the
// registration of the domain that carries the service, which status
// displays and policy should use: the first registered one of EPS
// (+CEREG), 5GS (+C5GREG), PS (+CGREG) and CS (+CREG), in that order. On
// LTE the CS domain may say "home" (or carry a placeholder LAC) while
// EPS, the domain that carries the data, says roaming; EPS wins. When no
// domain is registered it returns the first present in the same order
// (the EPS status says why there is no service: searching, denied). ok is
// false only for an empty list.
func ServiceRegistration(regs []Registration) (reg Registration, ok bool) {
	order := [...]Domain{DomainEPS, Domain5GS, DomainPS, DomainCS}
	for _, d := range order {
		for _, r := range regs {
			if r.Domain == d && r.Status.Registered() {
				return r, true
			}
		}
	}
	for _, d := range order {
		for _, r := range regs {
			if r.Domain == d {
				return r, true
			}
		}
	}
	return Registration{}, false
}
