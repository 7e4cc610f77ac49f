package modem

import (
	"strings"
	"time"
)

// defaultTimeout covers the commands a modem answers from its own state
// (CSQ, CREG?, CIMI, CRSM on most files...). Quectel documents 300 ms for
// these; 3 s leaves room for a busy modem without letting a dead one stall
// a caller for long.
const defaultTimeout = 3 * time.Second

// cmdTimeouts are the slow commands, keyed by the command as sent (without
// "AT"). Longest matching key wins, so "+COPS=?" beats "+COPS=". Figures are
// the vendors' documented maxima or ModemManager's, whichever is longer
// (reference §6.3).
var cmdTimeouts = []struct {
	prefix string
	d      time.Duration
}{
	{"+CFUN=", 15 * time.Second},
	{"+COPS=?", 180 * time.Second},
	{"+COPS=", 120 * time.Second},
	// Mode 3 only chooses how +COPS? prints the operator (27.007 §7.3):
	// local, answered at once, unlike a network selection.
	{"+COPS=3,", defaultTimeout},
	{"+CGACT=", 150 * time.Second},
	{"+CGATT=", 140 * time.Second},
	{"+CPIN?", 10 * time.Second},
	{"+CPIN=", 5 * time.Second},
	{"+CRSM=176,12258", 20 * time.Second}, // EF_ICCID: MM allows 20 s
	{"+CRSM=", 5 * time.Second},
	{"+CCHO=", 10 * time.Second},
	{"+CGLA=", 10 * time.Second},
	{"+CCHC=", 10 * time.Second},
	{"+CSIM=", 10 * time.Second},
	{"+QPOWD", 65 * time.Second},
	{"+QUIMSLOT=", 15 * time.Second},
}

// timeoutFor returns the budget for cmd (as sent, without "AT").
func timeoutFor(cmd string) time.Duration {
	best, bestLen := defaultTimeout, -1
	u := strings.ToUpper(cmd)
	for _, t := range cmdTimeouts {
		if strings.HasPrefix(u, t.prefix) && len(t.prefix) > bestLen {
			best, bestLen = t.d, len(t.prefix)
		}
	}
	return best
}
