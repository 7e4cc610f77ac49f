package profiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// MinSecretLen is the shortest token or HMAC key Check accepts (the API
// refuses shorter bearer tokens at start too).
const MinSecretLen = 16

// ServiceGroup is the group the packaged service runs as: a secret file may
// be readable by it (0640, group imsid) but by no other group.
const ServiceGroup = "imsid"

// maxSecretFile bounds what is read of a secret or certificate file.
const maxSecretFile = 1 << 20

// files opens what the config names, as the daemon would at start.
func (v *validator) files(c *Config) {
	a := &c.API
	if a.TokenFile != "" {
		v.secretFile("api.token_file", a.TokenFile)
	}
	if a.TLSCert != "" && a.TLSKey != "" {
		v.secretFile("api.tls_key", a.TLSKey)
		if _, err := tls.LoadX509KeyPair(a.TLSCert, a.TLSKey); err != nil {
			v.fail("api.tls_cert", "%s with %s: %v", a.TLSCert, a.TLSKey, err)
		}
	}
	u := &c.Upstream
	if u.URL == "" {
		return
	}
	if u.TokenFile != "" {
		v.secretFile("upstream.token_file", u.TokenFile)
	}
	if u.HMACKey != "" {
		v.secretFile("upstream.hmac_key_file", u.HMACKey)
	}
	if u.CAFile != "" {
		b, err := readLimited(u.CAFile)
		switch {
		case err != nil:
			v.fail("upstream.ca_file", "%v", fileErr(err))
		case !x509.NewCertPool().AppendCertsFromPEM(b):
			v.fail("upstream.ca_file", "%s holds no PEM certificate", u.CAFile)
		}
	}
}

// secretFile checks a file holding a secret: readable, a regular file, long
// enough, and private (no access for others; group read only for the
// service's group).
func (v *validator) secretFile(field, path string) {
	fi, err := os.Stat(path)
	if err != nil {
		v.fail(field, "%v", fileErr(err))
		return
	}
	if !fi.Mode().IsRegular() {
		v.fail(field, "%s is not a regular file", path)
		return
	}
	if why := exposed(fi); why != "" {
		v.fail(field, "%s is %s (mode %04o): use 0600, or 0640 with group %s", path, why, uint32(fi.Mode().Perm()), ServiceGroup)
	}
	b, err := readLimited(path)
	if err != nil {
		v.fail(field, "%v", fileErr(err))
		return
	}
	if field == "api.tls_key" {
		return
	}
	if n := len(strings.TrimSpace(string(b))); n < MinSecretLen {
		v.fail(field, "%s holds %d characters; at least %d are required (e.g. head -c 32 /dev/urandom | base64 > %s)", path, n, MinSecretLen, path)
	}
}

// exposed says who besides the owner (and the service's group) can read or
// change a secret file, or "" when nobody.
func exposed(fi fs.FileInfo) string {
	m := fi.Mode().Perm()
	switch {
	case m&0o007 != 0:
		return "accessible to every local user"
	case m&0o020 != 0:
		return "writable by its group"
	case m&0o040 != 0 && !serviceGroup(fi):
		return "readable by a group other than " + ServiceGroup
	}
	return ""
}

func serviceGroup(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	if st.Gid == 0 {
		return true // root's group: nobody root does not already trust
	}
	g, err := user.LookupGroup(ServiceGroup)
	return err == nil && g.Gid == strconv.FormatUint(uint64(st.Gid), 10)
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, maxSecretFile))
}

// fileErr words an open failure for a person.
func fileErr(err error) string {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist) && errors.As(err, &pe):
		return pe.Path + " does not exist"
	case errors.Is(err, fs.ErrPermission) && errors.As(err, &pe):
		return pe.Path + ": permission denied (check it as root or as the daemon's user)"
	}
	return err.Error()
}
