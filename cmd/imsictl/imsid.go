package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// helperRunner runs one of imsid's helper commands for imsictl (`imsid
// __probe ...`, `imsid __validate FILE`; internal/offline) with its JSON
// answer to stdout and the probe's --trace to stderr. It returns the
// command's exit code, or an error when it could not run at all.
//
// imsictl probe --device and imsictl config validate go through imsid
// because the modem driver, the serial port and the config parser are
// about 1 MB of a binary that must fit a gateway's flash: imsid carries
// them anyway, so imsictl does not (docs/shipping.md).
type helperRunner func(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error)

// defaultHelper is what run() uses: the installed imsid.
var defaultHelper helperRunner = execImsid

// errNoImsid: neither next to imsictl nor on PATH.
var errNoImsid = errors.New("imsid not found")

// findImsid looks for the imsid executable next to imsictl's own (both are
// in /usr/bin when installed from a package), then on PATH.
func findImsid() (string, error) {
	var tried []string
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		p := filepath.Join(filepath.Dir(exe), "imsid")
		if executable(p) {
			return p, nil
		}
		tried = append(tried, p)
	}
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			dir = "."
		}
		if p := filepath.Join(dir, "imsid"); executable(p) {
			return p, nil
		}
	}
	tried = append(tried, "PATH")
	return "", fmt.Errorf("%w (looked at %s)", errNoImsid, strings.Join(tried, " and on "))
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// execImsid runs the installed imsid. It uses os.StartProcess rather than
// os/exec, which would add 20 KB to a binary that is at its size limit on
// mipsle (docs/shipping.md).
func execImsid(ctx context.Context, args []string, stdout, stderr io.Writer) (int, error) {
	path, err := findImsid()
	if err != nil {
		return 0, err
	}
	files := []*os.File{os.Stdin, nil, nil}
	var copies sync.WaitGroup
	var closeAfterStart []*os.File
	for i, w := range []io.Writer{stdout, stderr} {
		if f, ok := w.(*os.File); ok {
			files[i+1] = f
			continue
		}
		r, pw, err := os.Pipe()
		if err != nil {
			return 0, err
		}
		files[i+1] = pw
		closeAfterStart = append(closeAfterStart, pw)
		copies.Add(1)
		go func() {
			defer copies.Done()
			defer r.Close()
			io.Copy(w, r)
		}()
	}
	p, err := os.StartProcess(path, append([]string{path}, args...), &os.ProcAttr{Files: files})
	for _, f := range closeAfterStart {
		f.Close()
	}
	if err != nil {
		copies.Wait()
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	stop := context.AfterFunc(ctx, func() { p.Kill() })
	st, err := p.Wait()
	stop()
	copies.Wait()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if code := st.ExitCode(); code >= 0 {
		return code, nil
	}
	return 0, fmt.Errorf("%s: %v", path, st)
}

// runHelper runs an imsid helper command for the imsictl command what and
// decodes its answer into v. On failure it has told the operator why
// (naming what it needs imsid for) and returns false with an exit code.
func runHelper(ctx context.Context, e *env, what, why string, args []string, v any) (int, bool) {
	run := e.helper
	if run == nil {
		run = defaultHelper
	}
	var out strings.Builder
	code, err := run(ctx, args, &out, e.stderr)
	if err != nil {
		if errors.Is(err, errNoImsid) {
			fmt.Fprintf(e.stderr, "imsictl %s: needs imsid, which %s (this imsictl does not carry it, to fit small gateways): %v\n"+
				"  install imsid beside imsictl (the imsid package does), or put it on PATH\n", what, why, err)
			return exitFail, false
		}
		fmt.Fprintf(e.stderr, "imsictl %s: cannot run imsid: %v\n", what, err)
		return exitFail, false
	}
	if jerr := json.Unmarshal([]byte(out.String()), v); jerr != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(e.stderr, "imsictl %s: %v\n", what, ctx.Err())
			return exitFail, false
		}
		fmt.Fprintf(e.stderr, "imsictl %s: imsid gave no answer to %s (exit code %d): is it older than this imsictl? Install the same version of both\n",
			what, args[0], code)
		return exitFail, false
	}
	return code, true
}
