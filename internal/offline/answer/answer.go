// Package answer is what imsid's helper commands for imsictl (package
// offline) print on stdout, as JSON: imsictl probe --device and imsictl
// config validate run `imsid __probe` and `imsid __validate` and print
// these in their own formats. It imports nothing heavier than the report's
// types, so imsictl links neither the modem driver nor the config parser.
package answer

import "github.com/imsid/imsid/internal/modemreport"

// Probe is `imsid __probe`'s answer: the report, or why there is none.
type Probe struct {
	Report *modemreport.Report `json:"report,omitempty"`
	// Error is the reason, worded for an operator, when Report is nil.
	Error string `json:"error,omitempty"`
	// Usage: Error is about the command line (exit code 2), not the modem.
	Usage bool `json:"usage,omitempty"`
}

// Validate is `imsid __validate FILE`'s answer.
type Validate struct {
	Valid    bool     `json:"valid"`
	Profiles []string `json:"profiles"`
	// Method is sim.method, for the one-line summary of a valid file.
	Method string  `json:"method,omitempty"`
	Errors []Issue `json:"errors"`
	// ReadError: the file could not be read at all (no Errors then).
	ReadError string `json:"read_error,omitempty"`
}

// Issue is one problem in the file, at its line.
type Issue struct {
	File    string `json:"file"`
	Line    int    `json:"line"` // 0: no position
	Path    string `json:"path"` // field path, "" for the whole file
	Message string `json:"message"`
	// Text is the problem as one line ("file:line: path: message").
	Text string `json:"text"`
}
