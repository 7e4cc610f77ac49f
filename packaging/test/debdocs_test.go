package packagetest

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// TestDebDocs: the .deb's copyright (machine-readable, DEP-5, covering
// every Go module linked into the binaries), its changelog (Debian format,
// gzip'd, for this version), the man pages (the generated ones, gzip'd) and
// imsictl's shell completions (what the shipped imsictl prints).
func TestDebDocs(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("dpkg-deb not installed")
	}
	deb := builtPackage(t, ".deb")
	root := t.TempDir()
	run(t, "dpkg-deb", "-x", deb, root)
	at := func(p string) string { return filepath.Join(root, p) }

	for p, mode := range map[string]fs.FileMode{
		"usr/share/doc/imsid/copyright":                    0o644,
		"usr/share/doc/imsid/changelog.gz":                 0o644,
		"usr/share/man/man8/imsid.8.gz":                    0o644,
		"usr/share/man/man1/imsictl.1.gz":                  0o644,
		"usr/share/bash-completion/completions/imsictl":    0o644,
		"usr/share/zsh/vendor-completions/_imsictl":        0o644,
		"usr/share/fish/vendor_completions.d/imsictl.fish": 0o644,
	} {
		fi, err := os.Lstat(at(p))
		if err != nil {
			t.Errorf("/%s: %v", p, err)
			continue
		}
		if fi.Mode() != mode {
			t.Errorf("/%s mode %v, want %v", p, fi.Mode(), mode)
		}
	}

	t.Run("copyright", func(t *testing.T) {
		b, err := os.ReadFile(at("usr/share/doc/imsid/copyright"))
		if err != nil {
			t.Fatal(err)
		}
		paras := dep5(string(b))
		if len(paras) == 0 || paras[0]["Format"] != "https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" {
			t.Fatalf("the first paragraph has no DEP-5 Format: field: %v", paras)
		}
		if paras[0]["Upstream-Name"] != "imsid" {
			t.Errorf("Upstream-Name = %q", paras[0]["Upstream-Name"])
		}
		defined := map[string]bool{}
		files := map[string]bool{}
		var used []string
		for i, p := range paras[1:] {
			lic := p["License"]
			short, text, _ := strings.Cut(lic, "\n")
			if short == "" {
				t.Errorf("paragraph %d has no License:", i+2)
			}
			if f, ok := p["Files"]; ok {
				if p["Copyright"] == "" {
					t.Errorf("Files: %s has no Copyright:", f)
				}
				for _, pat := range strings.Fields(f) {
					files[pat] = true
				}
				for _, s := range strings.Split(short, " and ") {
					used = append(used, strings.TrimSpace(s))
				}
				if strings.TrimSpace(text) != "" {
					defined[short] = true
				}
			} else if strings.TrimSpace(text) != "" {
				defined[short] = true
			} else {
				t.Errorf("stand-alone License: %s has no text", short)
			}
		}
		if !files["*"] {
			t.Error("no Files: * paragraph for imsid itself")
		}
		for _, u := range used {
			if !defined[u] {
				t.Errorf("License %q is used but its text is nowhere", u)
			}
		}
		// Every module linked into the shipped binaries is covered.
		for _, bin := range []string{"usr/bin/imsid", "usr/bin/imsictl"} {
			out := run(t, "go", "version", "-m", at(bin))
			for _, l := range strings.Split(out, "\n") {
				f := strings.Fields(l)
				if len(f) >= 3 && (f[0] == "dep" || f[0] == "=>") {
					if !files["vendor/"+f[1]+"/*"] {
						t.Errorf("%s links %s %s, which debian/copyright does not cover (Files: vendor/%s/*)", bin, f[1], f[2], f[1])
					}
				}
			}
		}
		// The source tree's copy is the shipped one.
		src, _ := os.ReadFile("../debian/copyright")
		if !bytes.Equal(src, b) {
			t.Error("/usr/share/doc/imsid/copyright differs from packaging/debian/copyright")
		}
	})

	t.Run("changelog", func(t *testing.T) {
		b := gunzip(t, at("usr/share/doc/imsid/changelog.gz"))
		first, _, _ := strings.Cut(string(b), "\n")
		if want := "imsid (" + version + ") unstable; urgency=medium"; first != want {
			t.Errorf("changelog starts %q, want %q", first, want)
		}
		if _, err := exec.LookPath("dpkg-parsechangelog"); err != nil {
			t.Log("dpkg-parsechangelog not installed; the first line was checked")
			return
		}
		tmp := filepath.Join(t.TempDir(), "changelog")
		if err := os.WriteFile(tmp, b, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("dpkg-parsechangelog", "-l", tmp).CombinedOutput()
		if err != nil || strings.Contains(string(out), "warning") {
			t.Errorf("dpkg-parsechangelog: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "\nVersion: "+version+"\n") || !strings.Contains(string(out), "Maintainer: ") {
			t.Errorf("dpkg-parsechangelog:\n%s", out)
		}
	})

	t.Run("man", func(t *testing.T) {
		for shipped, src := range map[string]string{
			"usr/share/man/man8/imsid.8.gz":   "../man/imsid.8",
			"usr/share/man/man1/imsictl.1.gz": "../man/imsictl.1",
		} {
			want, _ := os.ReadFile(src)
			if got := gunzip(t, at(shipped)); !bytes.Equal(got, want) {
				t.Errorf("/%s is not packaging/%s", shipped, strings.TrimPrefix(src, "../"))
			}
		}
		// The shipped binary prints the shipped page.
		want, _ := os.ReadFile("../man/imsid.8")
		if got := run(t, at("usr/bin/imsid"), "--man"); got != string(want) {
			t.Error("the shipped imsid --man differs from the shipped imsid.8")
		}
	})

	t.Run("completion", func(t *testing.T) {
		for sh, p := range map[string]string{
			"bash": "usr/share/bash-completion/completions/imsictl",
			"zsh":  "usr/share/zsh/vendor-completions/_imsictl",
			"fish": "usr/share/fish/vendor_completions.d/imsictl.fish",
		} {
			got, err := os.ReadFile(at(p))
			if err != nil {
				t.Fatal(err)
			}
			if want := run(t, at("usr/bin/imsictl"), "completion", sh); string(got) != want {
				t.Errorf("/%s is not what the shipped `imsictl completion %s` prints", p, sh)
			}
			if _, err := exec.LookPath(sh); err == nil {
				if out, err := exec.Command(sh, "-n", at(p)).CombinedOutput(); err != nil {
					t.Errorf("%s -n /%s: %v\n%s", sh, p, err, out)
				}
			}
		}
	})
}

// dep5 splits a DEP-5 file into paragraphs of fields; continuation lines
// (starting with a space) are joined to their field with newlines, and a
// lone "." stands for an empty line.
func dep5(s string) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	last := ""
	for _, l := range strings.Split(s, "\n") {
		switch {
		case strings.TrimSpace(l) == "":
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur, last = map[string]string{}, ""
		case l[0] == ' ' || l[0] == '\t':
			if last != "" {
				cur[last] += "\n" + strings.TrimSpace(l)
			}
		default:
			k, v, _ := strings.Cut(l, ":")
			cur[k] = strings.TrimSpace(v)
			last = k
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}
