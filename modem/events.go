package modem

import (
	"strings"
	"time"
)

// EventKind says what an unsolicited line is about. It is a hint for what to
// re-query, never the state itself: a URC can be stale or reordered against a
// solicited answer, so the consumer asks the modem again.
type EventKind int

// Event kinds.
const (
	EventOther         EventKind = iota // a prefixed line nobody asked for
	EventRegistration                   // +CREG/+CGREG/+CEREG/+C5GREG
	EventSIM                            // +CPIN, +QUSIM, +QSIMSTAT, ^SIMST, +UUSIMSTAT, #QSS, +SIMCARD
	EventReset                          // RDY, ^SYSSTART, POWERED DOWN: the modem restarted or is going down
	EventFunctionality                  // +CFUN: <fun>
	EventPacket                         // +CGEV, NO CARRIER
	EventSTK                            // +CUSATP, +CUSATEND, +STIN, +QSTK
	EventInfo                           // +QIND and other vendor progress lines
)

var eventKindNames = [...]string{"other", "registration", "sim", "reset", "functionality", "packet", "stk", "info"}

func (k EventKind) String() string {
	if k >= 0 && int(k) < len(eventKindNames) {
		return eventKindNames[k]
	}
	return "unknown"
}

// Event is one unsolicited line, in the order the modem sent it.
type Event struct {
	Seq  uint64    // 1, 2, 3... per session; a gap never happens except as Dropped
	Time time.Time // when the line was read
	Kind EventKind
	// Domain is set for EventRegistration.
	Domain Domain
	// Line is the raw line as received (may contain an IMSI for vendor lines
	// like #RFSTS; do not log it at info level).
	Line string
	// Registration is the parsed hint for EventRegistration (nil when the
	// line did not parse). A hint: re-query before acting on it.
	Registration *Registration
	// SIM is the parsed hint for a +CPIN line.
	SIM *SIMState
	// Dropped counts events discarded before this one because the consumer
	// fell more than eventQueueCap behind.
	Dropped int
}

// withHint parses what the line says, leaving the fields nil when it does
// not parse: a URC is a trigger, never the only source of truth.
func (e Event) withHint() Event {
	switch {
	case e.Kind == EventRegistration:
		if r, err := ParseRegistrationURC(e.Line); err == nil {
			e.Registration = &r
		}
	case strings.HasPrefix(e.Line, "+CPIN:"):
		if st, err := ParseCPIN(e.Line); err == nil {
			e.SIM = &st
		}
	}
	return e
}

// urcPrefixes are the lines modems send on their own. Matching is
// case-sensitive on purpose: every vendor writes them in upper case and a
// lowercase line is more likely data.
var urcPrefixes = []struct {
	prefix string
	kind   EventKind
	domain Domain
}{
	{"+CREG:", EventRegistration, DomainCS},
	{"+CGREG:", EventRegistration, DomainPS},
	{"+CEREG:", EventRegistration, DomainEPS},
	{"+C5GREG:", EventRegistration, Domain5GS},
	{"+CPIN:", EventSIM, 0},
	{"+QUSIM:", EventSIM, 0},
	{"+QSIMSTAT:", EventSIM, 0},
	{"^SIMST:", EventSIM, 0},
	{"+UUSIMSTAT:", EventSIM, 0},
	{"#QSS:", EventSIM, 0},
	{"+SIMCARD:", EventSIM, 0},
	{"+CFUN:", EventFunctionality, 0},
	{"+CGEV:", EventPacket, 0},
	{"+CUSATP:", EventSTK, 0},
	{"+CUSATEND", EventSTK, 0},
	{"+STIN:", EventSTK, 0},
	{"+QSTK:", EventSTK, 0},
	{"+QIND:", EventInfo, 0},
	{"+QNETDEVSTATUS:", EventInfo, 0},
	{"+CIEV:", EventInfo, 0},
	{"+CMTI:", EventInfo, 0},
	{"^MODE:", EventInfo, 0},
	{"^RSSI:", EventInfo, 0},
}

// urcWords are whole-line URCs.
var urcWords = map[string]EventKind{
	"RDY":          EventReset,
	"^SYSSTART":    EventReset,
	"POWERED DOWN": EventReset,
	"NO CARRIER":   EventPacket,
	"RING":         EventInfo,
}

// classifyURC says whether line is unsolicited. inflight is the command
// being answered (nil when idle); a line that command owns is never a URC,
// except that a registration line shaped like a URC is one even while the
// matching read is in flight ("+CEREG: 1,\"DE10\",..." inside AT+CEREG?).
func classifyURC(line string, inflight *cmdSpec) (EventKind, Domain, bool) {
	if k, ok := urcWords[line]; ok {
		return k, 0, true
	}
	for _, u := range urcPrefixes {
		if !strings.HasPrefix(line, u.prefix) {
			continue
		}
		if inflight != nil && inflight.owns(line) {
			if u.kind == EventRegistration && !IsRegistrationRead(line) {
				return u.kind, u.domain, true
			}
			return 0, 0, false
		}
		return u.kind, u.domain, true
	}
	if inflight == nil && hasInfoPrefix(line) {
		// Idle and prefixed: nothing can own it, so it is an unsolicited line
		// from a vendor we have no table entry for.
		return EventOther, 0, true
	}
	return 0, 0, false
}

// isKnownURC reports whether line looks unsolicited whatever is in flight.
func isKnownURC(line string) bool {
	if _, ok := urcWords[line]; ok {
		return true
	}
	for _, u := range urcPrefixes {
		if strings.HasPrefix(line, u.prefix) {
			return true
		}
	}
	return false
}

// hasInfoPrefix reports whether line starts like "+XYZ:", "^XYZ:", "#XYZ:",
// "!XYZ:" or "$XYZ:", the shapes of information lines and URCs.
func hasInfoPrefix(line string) bool {
	if len(line) < 3 || !strings.ContainsRune("+^#!$%", rune(line[0])) {
		return false
	}
	for i := 1; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ':':
			return i > 1
		case (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_':
		default:
			return false
		}
	}
	return false
}

// eventQueueCap bounds what an absent consumer can cost: past it the oldest
// events are dropped and the next delivered one says how many.
const eventQueueCap = 1024
