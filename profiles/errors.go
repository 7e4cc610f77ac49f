package profiles

import (
	"errors"
	"fmt"
	"strings"
)

// ErrRemovedField is the cause of a FieldError for a field imsid once
// accepted and no longer has: errors.Is finds it through a
// *ValidationError.
var ErrRemovedField = errors.New("profiles: field was removed")

// removedFields are the fields that were read by nothing, each with why it
// went. A file that still sets one is refused, not silently accepted: the
// operator meant something by it, and it no longer does anything.
var removedFields = map[string]string{
	"sim.applet.channel": "the driver always opens a logical channel to the applet by its AID " +
		"(AT+CCHO, or MANAGE CHANNEL and SELECT over AT+CSIM when the modem lacks AT+CCHO); delete the line",
	"sim.applet.select_apdu": "the applet is selected by its AID when the logical channel is opened, " +
		"so no SELECT template is sent; delete the line",
	"sim.euicc.isdr_aid": "the ISD-R AID is fixed by GSMA SGP.22 (A0000005591010FFFFFFFF8900000100) " +
		"and the driver always uses it; delete the line",
	"policy.threats.d7_neighbours.poll": "the neighbour list is read with the serving cell at every " +
		"policy.signal_poll; delete the key",
	"policy.threats.d10_sim.check": "the SIM identity (ICCID, IMSI) is read at every policy.signal_poll " +
		"and on every SIM event; delete the key",
}

// FieldError is one problem in a config file: where it is and what is wrong.
type FieldError struct {
	File string // the name given to Parse or the path given to Load
	Line int    // 1-based; 0 when the problem has no position (e.g. empty file)
	Path string // field path such as "profiles[1].apn"; empty for the whole file
	Msg  string
	// Err is the problem's cause when it has a type of its own
	// (ErrRemovedField); nil otherwise.
	Err error
}

// Unwrap returns the cause, if any.
func (e FieldError) Unwrap() error { return e.Err }

// Error formats the problem as "file:line: path: msg".
func (e FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ValidationError carries every problem found in one config file, sorted by
// line, so an operator fixes them in one pass instead of one per reload.
type ValidationError struct {
	Errors []FieldError
}

// Error lists the problems one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes each FieldError to errors.As.
func (e *ValidationError) Unwrap() []error {
	out := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		out[i] = fe
	}
	return out
}
