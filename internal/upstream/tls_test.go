package upstream

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// newCA makes a fleet CA and a server certificate for 127.0.0.1 signed by it.
func newCA(t *testing.T) (caPEM []byte, server tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imsid test fleet CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "fleet"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
}

func TestCustomCA(t *testing.T) {
	caPEM, cert := newCA(t)
	got := 0
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got++
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()

	cfg := baseConfig(srv.URL + "/v1/events")

	// Without the fleet CA the server is not trusted, and that is not
	// retried: a certificate will not fix itself.
	ob := newOutbox(t)
	r, err := New(cfg, "gw-tls", ob, WithHeartbeat(0, nil))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = r.Publish(TypeHeartbeat, Heartbeat{})
	if err := r.Flush(context.Background()); err == nil {
		t.Fatal("delivered to a server signed by an unknown CA")
	}
	if ob.Len() != 1 || r.Stats().Retries != 0 {
		t.Errorf("queued %d, retries %d", ob.Len(), r.Stats().Retries)
	}

	cfg.CAFile = writeFile(t, "ca.pem", string(caPEM))
	r, err = New(cfg, "gw-tls", ob, WithHeartbeat(0, nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(context.Background()); err != nil {
		t.Fatalf("with the fleet CA: %v", err)
	}
	if got != 1 || ob.Len() != 0 {
		t.Errorf("server got %d requests, %d queued", got, ob.Len())
	}
}
