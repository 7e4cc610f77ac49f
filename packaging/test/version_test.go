package packagetest

import (
	"os/exec"
	"strings"
	"testing"
)

// pkgVersion runs scripts/pkgversion.sh, which scripts/package.sh uses to
// turn `git describe` into the package version.
func pkgVersion(t *testing.T, describe string) string {
	t.Helper()
	out, err := exec.Command("sh", "../../scripts/pkgversion.sh", describe).CombinedOutput()
	if err != nil {
		t.Fatalf("pkgversion.sh %s: %v\n%s", describe, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestPackageVersion(t *testing.T) {
	for describe, want := range map[string]string{
		"v1.2.3":                  "1.2.3",
		"1.2.3":                   "1.2.3",
		"v1.2.3-4-gabc1234":       "1.2.3+4.gabc1234",
		"7541689":                 "0.0.0~g7541689",
		"abc1234":                 "0.0.0~gabc1234",
		"abc1234-dirty":           "0.0.0~gabc1234~dirty",
		"v1.2.3-dirty":            "1.2.3~dirty",
		"v1.2.3-4-gabc1234-dirty": "1.2.3+4.gabc1234~dirty",
		"dev":                     "0.0.0~dev",
		"9.8.7-test":              "9.8.7-test",
	} {
		if got := pkgVersion(t, describe); got != want {
			t.Errorf("pkgversion.sh %s = %q, want %q", describe, got, want)
		}
	}
}

// TestPackageVersionOrder: dpkg must order an untagged build below every
// release (the bare hash 7541689 used to sort above 1.0), and a build after
// a tag between that tag and the next.
func TestPackageVersionOrder(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("dpkg not installed")
	}
	lt := func(a, b string) {
		t.Helper()
		if err := exec.Command("dpkg", "--compare-versions", a, "lt", b).Run(); err != nil {
			t.Errorf("dpkg --compare-versions %s lt %s: false", a, b)
		}
	}
	for _, untagged := range []string{"7541689", "fffffff", "9999999", "abc1234-dirty", "dev"} {
		v := pkgVersion(t, untagged)
		lt(v, "0.0.1")
		lt(v, "1.0")
		lt(v, pkgVersion(t, "v0.0.1"))
		lt(v, pkgVersion(t, "v1.0.0"))
	}
	lt(pkgVersion(t, "abc1234-dirty"), pkgVersion(t, "abc1234"))
	lt(pkgVersion(t, "v1.2.3"), pkgVersion(t, "v1.2.3-4-gabc1234"))
	lt(pkgVersion(t, "v1.2.3-4-gabc1234"), pkgVersion(t, "v1.2.3-10-gabc1234"))
	lt(pkgVersion(t, "v1.2.3-10-gabc1234"), pkgVersion(t, "v1.2.4"))
	lt(pkgVersion(t, "v1.2.3-dirty"), pkgVersion(t, "v1.2.3"))
}
