package profiles_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/imsid/imsid/profiles"
)

// The data-link recipes of docs/operations.md parse with the real loader,
// and each says who owns the link as the recipe describes; the hooks they
// install exist in examples/hooks.
func TestOperationsRecipes(t *testing.T) {
	doc, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)```yaml\n(# /etc/imsid/imsid.yaml \\(recipe: ([a-z-]+)\\)\n.*?)```")
	want := map[string]struct {
		owner profiles.LinkOwner
		iface string
		hook  string
	}{
		"debian-networkmanager": {profiles.LinkOwnerExternal, "wwan0", "50-nmcli"},
		"openwrt-netifd":        {profiles.LinkOwnerExternal, "wwan0", "50-ifup"},
		"ppp":                   {profiles.LinkOwnerExternal, "ppp0", "50-pppd"},
	}
	seen := map[string]bool{}
	for _, m := range block.FindAllSubmatch(doc, -1) {
		name := string(m[2])
		cfg, err := profiles.Parse("operations.md:"+name, m[1])
		if err != nil {
			t.Errorf("recipe %s: %v", name, err)
			continue
		}
		w, ok := want[name]
		if !ok {
			t.Errorf("unexpected recipe %s", name)
			continue
		}
		seen[name] = true
		if cfg.Link.Owner != w.owner || cfg.Link.Interface != w.iface || cfg.Link.HooksDir == "" {
			t.Errorf("recipe %s: link %+v", name, cfg.Link)
		}
		if _, err := os.Stat("../examples/hooks/" + w.hook); err != nil {
			t.Errorf("recipe %s: hook %s: %v", name, w.hook, err)
		}
		if !strings.Contains(string(doc), "examples/hooks/"+w.hook) && !strings.Contains(string(doc), w.hook+" /etc/imsid/hooks.d/") {
			t.Errorf("recipe %s does not say how to install %s", name, w.hook)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("docs/operations.md has no recipe %s", name)
		}
	}
}
