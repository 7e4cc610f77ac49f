package daemon

import (
	"bytes"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestMetricsDocumented keeps docs/api.md's metrics table and the real
// daemon's /metrics the same: every family the daemon registers is in the
// table and every family in the table is registered; every family a scrape
// of the running daemon returns is documented; the fleet series are there
// from the start, with no NaN and no identifier as a label; and the
// exposition passes promtool.
func TestMetricsDocumented(t *testing.T) {
	h := start(t, t.TempDir())
	h.waitFor("connected", 30*time.Second, h.on(""))
	doc, err := os.ReadFile("../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := string(doc)
	i := strings.Index(sec, "## GET /metrics")
	if i < 0 {
		t.Fatal("docs/api.md has no GET /metrics section")
	}
	sec = sec[i:]
	if j := strings.Index(sec[3:], "\n## "); j >= 0 {
		sec = sec[:j+3]
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllStringSubmatch(sec, -1) {
		documented = append(documented, m[1])
	}
	slices.Sort(documented)
	registered := h.d.metrics.Names()
	for _, n := range registered {
		if _, ok := slices.BinarySearch(documented, n); !ok {
			t.Errorf("the daemon exports %s; docs/api.md's metrics table does not list it", n)
		}
	}
	for _, n := range documented {
		if _, ok := slices.BinarySearch(registered, n); !ok {
			t.Errorf("docs/api.md lists %s; the daemon does not export it", n)
		}
	}

	rec := httptest.NewRecorder()
	h.d.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, m := range regexp.MustCompile(`(?m)^# TYPE ([a-z_]+) `).FindAllStringSubmatch(body, -1) {
		if _, ok := slices.BinarySearch(documented, m[1]); !ok {
			t.Errorf("a scrape returns %s, which docs/api.md does not list", m[1])
		}
	}
	for _, want := range []string{
		`imsid_build_info{goversion="go`,
		`imsid_active_profile_info{profile="`,
		"imsid_link_up 1\n",
		"imsid_modem_up 1\n",
		"imsid_switching_suspended 0\n",
		"imsid_pin_active 0\n",
		`imsid_quarantines{kind="cell"} 0`, `imsid_quarantines{kind="plmn"} 0`, `imsid_quarantines{kind="profile"} 0`,
		`imsid_switch_budget_remaining{budget="automatic"} `, `imsid_switch_budget_remaining{budget="operator"} `,
		`imsid_profile_usage_bytes{profile="`,
		`imsid_state{state="connected"} 1`,
		"go_goroutines ", "process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(body, "NaN") {
		t.Error("scrape has a NaN value; unknown values must be absent series")
	}
	if strings.Contains(body, `scope="cell:`) || strings.Contains(body, `scope="plmn:`) {
		t.Error("threat scores are labelled per scope key; they must be per kind")
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
	promtoolCheck(t, rec.Body.Bytes())
}

// promtoolCheck runs `promtool check metrics` on an exposition; without
// promtool it skips unless IMSID_PROMTOOL_REQUIRED is set (CI).
func promtoolCheck(t *testing.T, body []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("IMSID_PROMTOOL_REQUIRED") != "" {
			t.Fatal("promtool not found (Debian: apt-get install prometheus) and IMSID_PROMTOOL_REQUIRED is set")
		}
		t.Skip("promtool not installed (Debian: apt-get install prometheus); exposition not linted")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
