package modem

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// State sentinels. Device codes map onto them through CMEError.Is, so callers
// write errors.Is(err, modem.ErrSIMBusy) whatever the modem's CMEE style was.
var (
	ErrClosed    = errors.New("modem: closed")
	ErrPortLost  = errors.New("modem: port lost")
	ErrRestarted = errors.New("modem: modem restarted during start-up")
	// ErrTimeout is the one definition of "the modem did not answer in
	// time": every command that went unanswered, whether its own budget
	// (timeouts.go) or the caller's deadline ran out first, matches it
	// with errors.Is (the latter matches context.DeadlineExceeded too).
	// Responsive turns false with it.
	ErrTimeout             = errors.New("modem: command timed out")
	ErrError               = errors.New("modem: ERROR")
	ErrNotSupported        = errors.New("modem: not supported")
	ErrNotAllowed          = errors.New("modem: operation not allowed")
	ErrSIMNotInserted      = errors.New("modem: SIM not inserted")
	ErrSIMPIN              = errors.New("modem: SIM PIN required")
	ErrSIMPUK              = errors.New("modem: SIM PUK required")
	ErrSIMFailure          = errors.New("modem: SIM failure")
	ErrSIMBusy             = errors.New("modem: SIM busy")
	ErrSIMWrong            = errors.New("modem: SIM wrong")
	ErrMemoryFull          = errors.New("modem: memory full")
	ErrInvalidIndex        = errors.New("modem: invalid index")
	ErrNotFound            = errors.New("modem: not found")
	ErrNoNetwork           = errors.New("modem: no network service")
	ErrNetworkTimeout      = errors.New("modem: network timeout")
	ErrIncorrectParameters = errors.New("modem: incorrect parameters")
	ErrPhoneFailure        = errors.New("modem: phone failure")
	ErrPLMNNotAllowed      = errors.New("modem: PLMN not allowed")
	ErrRoamingNotAllowed   = errors.New("modem: roaming not allowed")
	ErrPSNotAllowed        = errors.New("modem: PS services not allowed")
	ErrMissingAPN          = errors.New("modem: missing or unknown APN")
	ErrParse               = errors.New("modem: cannot parse reply")
	ErrStatusWord          = errors.New("modem: unexpected SIM status word")
)

// CMEError is a +CME ERROR the modem returned. Code is -1 when the modem
// sent text that maps to no known code; Text keeps what it sent.
type CMEError struct {
	Code int
	Text string
}

func (e *CMEError) Error() string {
	if e.Code >= 0 {
		if e.Text != "" {
			return fmt.Sprintf("+CME ERROR: %d (%s)", e.Code, e.Text)
		}
		return fmt.Sprintf("+CME ERROR: %d", e.Code)
	}
	return "+CME ERROR: " + e.Text
}

// Is maps the device code onto the package's sentinels.
func (e *CMEError) Is(target error) bool {
	s, ok := cmeSentinels[e.Code]
	return ok && s == target
}

var cmeSentinels = map[int]error{
	0:   ErrPhoneFailure,
	3:   ErrNotAllowed,
	4:   ErrNotSupported,
	5:   ErrSIMPIN,
	10:  ErrSIMNotInserted,
	11:  ErrSIMPIN,
	12:  ErrSIMPUK,
	13:  ErrSIMFailure,
	14:  ErrSIMBusy,
	15:  ErrSIMWrong,
	20:  ErrMemoryFull,
	21:  ErrInvalidIndex,
	22:  ErrNotFound,
	30:  ErrNoNetwork,
	31:  ErrNetworkTimeout,
	50:  ErrIncorrectParameters,
	107: ErrPSNotAllowed,
	111: ErrPLMNNotAllowed,
	113: ErrRoamingNotAllowed,
	127: ErrMissingAPN,
}

// cmeTexts are normalised verbose texts (lower case, letters and digits only,
// "(u)" dropped) seen from real modems, mapped to their numeric codes.
var cmeTexts = map[string]int{
	"phonefailure":                        0,
	"noconnectiontophone":                 1,
	"phoneadaptorlinkreserved":            2,
	"operationnotallowed":                 3,
	"operationnotsupported":               4,
	"phsimpinrequired":                    5,
	"simnotinserted":                      10,
	"simpinrequired":                      11,
	"simpukrequired":                      12,
	"simfailure":                          13,
	"simbusy":                             14,
	"simwrong":                            15,
	"incorrectpassword":                   16,
	"simpin2required":                     17,
	"simpuk2required":                     18,
	"memoryfull":                          20,
	"invalidindex":                        21,
	"notfound":                            22,
	"memoryfailure":                       23,
	"nonetworkservice":                    30,
	"networktimeout":                      31,
	"networknotallowedemergencycallsonly": 32,
	"incorrectparameters":                 50,
	"parameterserror":                     50,
	"invalidparameters":                   50,
	"unknown":                             100,
	"unknownerror":                        100,
	"illegalms":                           103,
	"illegalme":                           106,
	"gprsservicesnotallowed":              107,
	"psservicesnotallowed":                107,
	"plmnnotallowed":                      111,
	"locationareanotallowed":              112,
	"roamingnotallowedinthislocationarea": 113,
	"missingorunknownapn":                 127,
	"requestedserviceoptionnotsubscribed": 133,
}

// NewCMEError builds a CMEError from the text after "+CME ERROR:" (numeric or
// verbose, any case, any vendor wording the table knows).
func NewCMEError(s string) *CMEError {
	s = strings.TrimSpace(s)
	if n, err := strconv.Atoi(s); err == nil {
		return &CMEError{Code: n}
	}
	if code, ok := cmeTexts[normaliseCMEText(s)]; ok {
		return &CMEError{Code: code, Text: s}
	}
	return &CMEError{Code: -1, Text: s}
}

func normaliseCMEText(s string) string {
	s = strings.ToLower(s)
	s = strings.ReplaceAll(s, "(u)", "")
	var b strings.Builder
	for _, r := range s {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		}
	}
	out := b.String()
	out = strings.TrimPrefix(out, "usim")
	if strings.HasPrefix(out, "notinserted") || strings.HasPrefix(out, "pinrequired") ||
		strings.HasPrefix(out, "failure") || strings.HasPrefix(out, "busy") {
		// "(U)SIM not inserted" lost its "sim" with the "(u)" strip above only
		// when written "USIM"; put it back.
		out = "sim" + out
	}
	return out
}

// deadlineError is a command the modem had not answered when the caller's
// deadline ended it: a timeout like any other (errors.Is(err, ErrTimeout))
// that is also the context's error.
type deadlineError struct{ cause error }

func (e *deadlineError) Error() string { return ErrTimeout.Error() + ": " + e.cause.Error() }

// Unwrap returns ErrTimeout and the context's error.
func (e *deadlineError) Unwrap() []error { return []error{ErrTimeout, e.cause} }

// VendorResultError is a final result code of a vendor's own that ends a
// command with an error, such as Huawei's "COMMAND NOT SUPPORT". It is an
// ERROR for an unknown command: errors.Is matches both ErrError and
// ErrNotSupported.
type VendorResultError struct {
	Result string // as the modem sent it
}

func (e *VendorResultError) Error() string { return "modem: " + e.Result }

// Unwrap returns ErrError and ErrNotSupported.
func (e *VendorResultError) Unwrap() []error { return []error{ErrError, ErrNotSupported} }

// OpError wraps a failure with the AT command that caused it.
type OpError struct {
	Cmd string // e.g. "AT+CIMI"
	Err error
}

func (e *OpError) Error() string { return e.Cmd + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *OpError) Unwrap() error { return e.Err }

// StartError is why New failed after the modem first answered (or the port
// was lost before): the start-up command that was cut short and the cause,
// one of ErrRestarted (the modem announced a restart, so the settings made
// so far are gone), ErrPortLost, ErrClosed, ErrTimeout (the start budget
// ran out) or the caller's context error.
type StartError struct {
	Cmd string // as sent, e.g. "AT+CMEE=1"
	Err error
}

func (e *StartError) Error() string {
	return "modem: start-up failed at " + e.Cmd + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *StartError) Unwrap() error { return e.Err }
