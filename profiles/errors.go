package profiles

import (
	"fmt"
	"strings"
)

// FieldError is one problem in a config file: where it is and what is wrong.
type FieldError struct {
	File string // the name given to Parse or the path given to Load
	Line int    // 1-based; 0 when the problem has no position (e.g. empty file)
	Path string // field path such as "profiles[1].apn"; empty for the whole file
	Msg  string
}

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
