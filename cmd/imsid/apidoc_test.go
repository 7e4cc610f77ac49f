package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// curlExample is one curl command of docs/api.md and, for a "$ curl" line,
// the answer the page shows under it.
type curlExample struct {
	line   int
	cmd    string
	shown  string // "" when the page shows no answer
	stream bool   // curl -N: read the start of the stream, then stop
}

var curlBlockRe = regexp.MustCompile("(?s)```[a-z]*\n(.*?)```")

// apiDocCurls finds every curl command in the fenced blocks of doc, joining
// backslash continuations.
func apiDocCurls(doc string) []curlExample {
	var out []curlExample
	for _, m := range curlBlockRe.FindAllStringSubmatchIndex(doc, -1) {
		body := doc[m[2]:m[3]]
		startLine := strings.Count(doc[:m[2]], "\n") + 1
		lines := strings.Split(body, "\n")
		for i := 0; i < len(lines); i++ {
			l := lines[i]
			dollar := strings.HasPrefix(l, "$ curl ")
			if !dollar && !strings.HasPrefix(l, "curl ") {
				continue
			}
			ex := curlExample{line: startLine + i}
			cmd := strings.TrimPrefix(l, "$ ")
			for strings.HasSuffix(cmd, "\\") && i+1 < len(lines) {
				i++
				cmd = strings.TrimSuffix(cmd, "\\") + " " + strings.TrimSpace(lines[i])
			}
			ex.cmd = cmd
			ex.stream = strings.Contains(cmd, " -N ")
			if dollar {
				var shown []string
				for i+1 < len(lines) && !strings.HasPrefix(lines[i+1], "$ ") {
					i++
					shown = append(shown, lines[i])
				}
				ex.shown = strings.TrimRight(strings.Join(shown, "\n"), "\n")
			}
			out = append(out, ex)
		}
	}
	return out
}

// volatileRe matches what differs from run to run: times, then digits.
var volatileRe = regexp.MustCompile(`\d{4}-\d\d-\d\dT[0-9:.]+Z|\d+`)

func normalizeVolatile(s string) string { return volatileRe.ReplaceAllString(s, "N") }

// TestAPIDocCurl runs every curl command of docs/api.md against the real
// daemon (imsid --simulate on the basic scenario, its profiles renamed to
// the page's home, roam-eu and backup, the TCP listener on with a token):
// each must get an answer the page promises (2xx unless the page shows the
// refusal), and an answer the page shows must be the one the daemon gives,
// digits and times aside.
func TestAPIDocCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	raw, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	examples := apiDocCurls(string(raw))
	if len(examples) < 4 {
		t.Fatalf("only %d curl examples found in docs/api.md", len(examples))
	}
	dir := t.TempDir()
	const token = "apidoc-token-0123456789abcdef"
	tokenFile := filepath.Join(dir, "api.token")
	os.WriteFile(tokenFile, []byte(token+"\n"), 0o600)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tcpAddr := l.Addr().String()
	l.Close()
	cfgPath := genConfigFor(t, "../../simulator/scenarios/basic.yaml", dir, func(s string) string {
		s = mustReplace(t, s, "api:\n", fmt.Sprintf("api:\n  listen: %q\n  token_file: %q\n", tcpAddr, tokenFile))
		for _, r := range [][2]string{{"telekom-de", "home"}, {"vodafone-uk", "roam-eu"}, {"t-mobile", "backup"}} {
			s = strings.ReplaceAll(s, `"`+r[0]+`"`, `"`+r[1]+`"`)
		}
		return s
	})
	startProc(t, "imsid", "--simulate", "../../simulator/scenarios/basic.yaml", "--speed", "20", "--config", cfgPath)
	sock := filepath.Join(dir, "imsid.sock")
	waitFor(t, 20*time.Second, "connected on home", on(unixClient(sock), "http://imsid", "home"))

	for _, ex := range examples {
		cmd := strings.NewReplacer(
			"/run/imsid/imsid.sock", sock,
			"/etc/imsid/api.token", tokenFile,
			"127.0.0.1:8787", tcpAddr,
		).Replace(ex.cmd)
		// The status code on a line of its own after the body.
		args := cmd + ` -w '\n%{http_code}'`
		if ex.stream {
			args += " --max-time 1"
		}
		out, err := exec.Command("sh", "-c", strings.Replace(args, "curl ", curl+" ", 1)).Output()
		if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ex.stream && ee.ExitCode() == 28) {
			t.Errorf("docs/api.md:%d: %s: %v", ex.line, ex.cmd, err)
			continue
		}
		body, code := string(out), ""
		if i := strings.LastIndex(body, "\n"); i >= 0 {
			body, code = body[:i], body[i+1:]
		}
		if ex.shown == "" {
			if !strings.HasPrefix(code, "2") {
				t.Errorf("docs/api.md:%d: %s: HTTP %s: %s", ex.line, ex.cmd, code, body)
			}
			continue
		}
		shown, got := ex.shown, strings.TrimRight(body, "\n")
		if ex.stream {
			// The page shows the stream's opening; the rest is elided.
			shown = strings.SplitN(shown, "\n\n", 2)[0]
			if len(got) > len(shown) {
				got = got[:len(shown)]
			}
		}
		if normalizeVolatile(got) != normalizeVolatile(shown) {
			t.Errorf("docs/api.md:%d: %s\nthe page shows:\n%s\nthe daemon answers (HTTP %s):\n%s", ex.line, ex.cmd, shown, code, got)
		}
	}
}
