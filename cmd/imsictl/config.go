package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/imsid/imsid/internal/offline/answer"
)

// configReport is `config validate --json`.
type configReport struct {
	File     string        `json:"file"`
	Valid    bool          `json:"valid"`
	Profiles []string      `json:"profiles"`
	Errors   []configIssue `json:"errors"`
}

type configIssue struct {
	File    string `json:"file"`
	Line    int    `json:"line"` // 0: no position
	Path    string `json:"path"` // field path, "" for the whole file
	Message string `json:"message"`
}

func runConfig(ctx context.Context, e *env, g *globals, args []string) int {
	pos, code, done := parseCommand(e, g, "config", args, nil)
	if done {
		return code
	}
	if len(pos) != 2 || pos[0] != "validate" {
		return usageError(e, "config", "want: imsictl config validate FILE")
	}
	file := pos[1]
	rep := configReport{File: file, Profiles: []string{}, Errors: []configIssue{}}
	// imsid reads the file with the daemon's own parser (internal/offline):
	// imsictl does not carry it.
	var res answer.Validate
	if code, ok := runHelper(ctx, e, "config validate", "reads the file with the daemon's own parser", []string{offlineValidate, file}, &res); !ok {
		return code
	}
	if res.ReadError != "" {
		// Not a problem in the file: it could not be read.
		if g.json {
			rep.Errors = append(rep.Errors, configIssue{File: file, Message: res.ReadError})
			writeJSON(e.stdout, rep)
		}
		fmt.Fprintf(e.stderr, "imsictl config validate: %s\n", res.ReadError)
		return exitFail
	}
	rep.Valid = res.Valid
	rep.Profiles = append(rep.Profiles, res.Profiles...)
	for _, fe := range res.Errors {
		rep.Errors = append(rep.Errors, configIssue{File: fe.File, Line: fe.Line, Path: fe.Path, Message: fe.Message})
	}
	if g.json {
		writeJSON(e.stdout, rep)
	}
	if !rep.Valid {
		n := len(res.Errors)
		fmt.Fprintf(e.stderr, "%s: %d problem%s:\n", file, n, plural(n))
		for _, fe := range res.Errors {
			fmt.Fprintf(e.stderr, "  %s\n", fe.Text)
		}
		return exitFail
	}
	if !g.json {
		fmt.Fprintf(e.stdout, "%s: valid; %d profile%s: %s; method %s\n", file, len(rep.Profiles), plural(len(rep.Profiles)),
			strings.Join(rep.Profiles, ", "), res.Method)
	}
	return exitOK
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
