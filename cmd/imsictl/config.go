package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/imsid/imsid/profiles"
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

func runConfig(_ context.Context, e *env, g *globals, args []string) int {
	pos, code, done := parseCommand(e, g, "config", args, nil)
	if done {
		return code
	}
	if len(pos) != 2 || pos[0] != "validate" {
		return usageError(e, "config", "want: imsictl config validate FILE")
	}
	file := pos[1]
	rep := configReport{File: file, Profiles: []string{}, Errors: []configIssue{}}
	cfg, err := profiles.Check(file)
	var ve *profiles.ValidationError
	switch {
	case err == nil:
		rep.Valid = true
		for _, p := range cfg.Profiles {
			rep.Profiles = append(rep.Profiles, p.Name)
		}
	case errors.As(err, &ve):
		for _, fe := range ve.Errors {
			rep.Errors = append(rep.Errors, configIssue{File: fe.File, Line: fe.Line, Path: fe.Path, Message: fe.Msg})
		}
	default:
		// Not a problem in the file: it could not be read.
		if g.json {
			rep.Errors = append(rep.Errors, configIssue{File: file, Message: err.Error()})
			writeJSON(e.stdout, rep)
		}
		fmt.Fprintf(e.stderr, "imsictl config validate: %v\n", err)
		return exitFail
	}
	if g.json {
		writeJSON(e.stdout, rep)
	}
	if !rep.Valid {
		n := len(ve.Errors)
		fmt.Fprintf(e.stderr, "%s: %d problem%s:\n", file, n, plural(n))
		for _, fe := range ve.Errors {
			fmt.Fprintf(e.stderr, "  %s\n", fe.Error())
		}
		return exitFail
	}
	if !g.json {
		fmt.Fprintf(e.stdout, "%s: valid; %d profile%s: %s; method %s\n", file, len(rep.Profiles), plural(len(rep.Profiles)),
			strings.Join(rep.Profiles, ", "), cfg.SIM.Method)
	}
	return exitOK
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
