package simulator

import (
	"errors"
	"fmt"
)

// Sentinels for the modem's own state.
var (
	// ErrPortDropped: the modem took the port away (CFUN=1,1 on a USB
	// modem, a port_loss fault). PortDownFor says for how long.
	ErrPortDropped = errors.New("simulator: port dropped by the modem")
	// ErrClosed: the modem was closed.
	ErrClosed = errors.New("simulator: modem closed")
	// ErrBusy: Serve was called while another port connection is served.
	ErrBusy = errors.New("simulator: already serving a port")
	// ErrNoManualClock: Advance needs a ManualClock.
	ErrNoManualClock = errors.New("simulator: clock is not a ManualClock")
	// ErrUnknown: a control call named something the modem does not have
	// (network, event kind, fault kind).
	ErrUnknown = errors.New("simulator: unknown")
)

// CME error codes the interpreter produces (27.007 §9.2).
const (
	cmePhoneFailure   = 0
	cmeNotAllowed     = 3
	cmeNotSupported   = 4
	cmeSIMNotInserted = 10
	cmeSIMFailure     = 13
	cmeSIMBusy        = 14
	cmeMemoryFull     = 20
	cmeInvalidIndex   = 21
	cmeNotFound       = 22
	cmeNoNetwork      = 30
	cmeNetTimeout     = 31
	cmeBadParams      = 50
	cmeUnknown        = 100
)

// cmeError is a handler failure reported as +CME ERROR (or plain ERROR under
// CMEE=0).
type cmeError struct{ code int }

func (e cmeError) Error() string { return fmt.Sprintf("+CME ERROR: %d", e.code) }

// errPlain makes the command fail with a bare ERROR whatever CMEE says, the
// way modems answer unknown commands and syntax errors.
var errPlain = errors.New("ERROR")

// baseCMEText is the 27.007 verbose wording; dialects override entries.
var baseCMEText = map[int]string{
	0:   "phone failure",
	1:   "no connection to phone",
	2:   "phone-adaptor link reserved",
	3:   "operation not allowed",
	4:   "operation not supported",
	5:   "PH-SIM PIN required",
	10:  "SIM not inserted",
	11:  "SIM PIN required",
	12:  "SIM PUK required",
	13:  "SIM failure",
	14:  "SIM busy",
	15:  "SIM wrong",
	16:  "incorrect password",
	20:  "memory full",
	21:  "invalid index",
	22:  "not found",
	23:  "memory failure",
	30:  "no network service",
	31:  "network timeout",
	32:  "network not allowed - emergency calls only",
	50:  "incorrect parameters",
	100: "unknown",
}

// resultCode is a final result code other than OK, ERROR and +CME ERROR
// (V.250 §5.7.1, table 1), returned by a handler as its error: the text
// under ATV1, the number under ATV0.
type resultCode struct {
	text string
	num  int
}

func (r resultCode) Error() string { return r.text }

// resNoCarrier is NO CARRIER (3): a connection could not be set up.
var resNoCarrier = resultCode{"NO CARRIER", 3}
