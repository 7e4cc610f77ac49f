package profiles_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imsid/imsid/profiles"
)

const goodSecret = "0123456789abcdef0123456789abcdef"

// checkFiles writes config (base plus extra) into a fresh directory with
// the given files and returns Check's problems as "line path: message".
func checkFiles(t *testing.T, extra string, files map[string]string, modes map[string]os.FileMode) []string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		mode := os.FileMode(0o600)
		if m, ok := modes[name]; ok {
			mode = m
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil { // past the umask
			t.Fatal(err)
		}
	}
	cfgPath := filepath.Join(dir, "imsid.yaml")
	os.WriteFile(cfgPath, []byte(base+extra), 0o600)
	// Load never opens the files: the daemon's own start does.
	_, lerr := profiles.Load(cfgPath)
	_, err := profiles.Check(cfgPath)
	if err == nil {
		return nil
	}
	var ve *profiles.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v (%T)", err, err)
	}
	var out []string
	for _, fe := range ve.Errors {
		out = append(out, strings.TrimPrefix(fe.Error(), cfgPath+":"))
	}
	if lerr != nil && len(out) > 0 {
		// Content problems (salt, key) are Load's too; file problems only Check's.
		return append(out, "load: "+lerr.Error())
	}
	return out
}

func selfSigned(t *testing.T) (certPEM, keyPEM string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<32, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
}

func TestCheckOpensEveryFile(t *testing.T) {
	cert, key := selfSigned(t)
	api := "api:\n  listen: \"8787\"\n  token_file: api.token\n"
	up := "upstream:\n  url: https://fleet.test/v1/events\n  token_file: up.token\n  ca_file: ca.pem\n  fleet_salt: Zq3xv9Lr0pT2mWc8\n"
	for _, tc := range []struct {
		name  string
		extra string
		files map[string]string
		modes map[string]os.FileMode
		want  []string // substrings, one per problem, in order
	}{
		{"all good", api + up, map[string]string{"api.token": goodSecret + "\n", "up.token": goodSecret, "ca.pem": cert}, nil, nil},
		{"token 0640 in root's group ok", api, map[string]string{"api.token": goodSecret}, map[string]os.FileMode{"api.token": 0o640}, nil},
		{"missing token", api, nil, nil, []string{"15: api.token_file: ", "api.token does not exist"}},
		{"short token", api, map[string]string{"api.token": "short\n"}, nil, []string{"15: api.token_file: ", "holds 5 characters; at least 16"}},
		{"empty token", api, map[string]string{"api.token": "\n"}, nil, []string{"15: api.token_file: ", "holds 0 characters"}},
		{"world-readable token", api, map[string]string{"api.token": goodSecret}, map[string]os.FileMode{"api.token": 0o644}, []string{"15: api.token_file: ", "accessible to every local user (mode 0644)"}},
		{"world-writable token", api, map[string]string{"api.token": goodSecret}, map[string]os.FileMode{"api.token": 0o666}, []string{"15: api.token_file: ", "accessible to every local user"}},
		{"group-writable token", api, map[string]string{"api.token": goodSecret}, map[string]os.FileMode{"api.token": 0o660}, []string{"15: api.token_file: ", "writable by its group"}},
		{"missing CA and upstream token", up, nil, nil, []string{"15: upstream.token_file: ", "16: upstream.ca_file: ", "ca.pem does not exist"}},
		{"CA not PEM", up, map[string]string{"up.token": goodSecret, "ca.pem": "not a cert"}, nil, []string{"16: upstream.ca_file: ", "holds no PEM certificate"}},
		{"tls pair", api + "  tls_cert: c.pem\n  tls_key: k.pem\n", map[string]string{"api.token": goodSecret, "c.pem": cert, "k.pem": cert}, nil, []string{"api.tls_cert: "}},
		{"tls pair good", api + "  tls_cert: c.pem\n  tls_key: k.pem\n", map[string]string{"api.token": goodSecret, "c.pem": cert, "k.pem": key}, nil, nil},
		{"tls key world-readable", api + "  tls_cert: c.pem\n  tls_key: k.pem\n", map[string]string{"api.token": goodSecret, "c.pem": cert, "k.pem": key}, map[string]os.FileMode{"k.pem": 0o604}, []string{"api.tls_key: ", "every local user"}},
		{"upstream off: its files are not opened", "upstream:\n  token_file: nope\n", nil, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := checkFiles(t, tc.extra, tc.files, tc.modes)
			all := strings.Join(got, "\n")
			if len(tc.want) == 0 {
				if len(got) != 0 {
					t.Fatalf("unexpected problems:\n%s", all)
				}
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems lack %q:\n%s", w, all)
				}
			}
			if strings.Contains(all, "load: ") {
				t.Errorf("a file problem reached Load, which does not open files:\n%s", all)
			}
		})
	}
}

// A placeholder salt and a published test key are refused on load too: the
// daemon must not start with them.
func TestPlaceholderSaltAndTestKey(t *testing.T) {
	up := "upstream:\n  url: https://fleet.test/v1/events\n  token_file: t\n"
	for name, tc := range map[string]struct {
		src  string
		want []want
	}{
		"shipped salt": {base + up + "  fleet_salt: \"change-me-per-fleet-0001\"\n",
			[]want{{16, "upstream.fleet_salt", "a placeholder"}}},
		"CHANGEME":    {base + up + "  fleet_salt: CHANGEME-CHANGEME\n", []want{{16, "upstream.fleet_salt", "a placeholder"}}},
		"repeated":    {base + up + "  fleet_salt: aaaaaaaaaaaaaaaaaaaa\n", []want{{16, "upstream.fleet_salt", "a placeholder"}}},
		"example":     {base + up + "  fleet_salt: example-salt-12345\n", []want{{16, "upstream.fleet_salt", "a placeholder"}}},
		"real":        {base + up + "  fleet_salt: Zq3xv9Lr0pT2mWc8\n", nil},
		"hashing off": {base + up + "  hash_identities: false\n  fleet_salt: change-me-per-fleet-0001\n", nil},
		"rfc 8032 key 1": {base + "upstream:\n  advisory_key: d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a\n",
			[]want{{14, "upstream.advisory_key", "published test key"}}},
		"rfc 8032 key 1, base64": {base + "upstream:\n  advisory_key: 11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n",
			[]want{{14, "upstream.advisory_key", "published test key"}}},
		"other key": {base + "upstream:\n  advisory_key: 3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29\n", nil},
	} {
		t.Run(name, func(t *testing.T) { checkErrors(t, tc.src, tc.want) })
	}
}
