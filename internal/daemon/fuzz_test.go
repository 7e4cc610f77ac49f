package daemon

import (
	"bytes"
	"io"
	"testing"

	"github.com/imsid/imsid/internal/api"
)

// Whatever crosses the wire, the tap never panics, never changes the bytes
// and never holds more than its bound.
func FuzzWireTap(f *testing.F) {
	f.Add([]byte("AT+CSQ\r"), []byte("\r\n+CSQ: 20,99\r\n\r\nOK\r\n"))
	f.Add([]byte("AT+CSIM=10,\"00A4\"\rAT\r"), []byte("+CME ERROR: 10\r\nERROR\r\n"))
	f.Add(bytes.Repeat([]byte{'A'}, 5000), bytes.Repeat([]byte{'x'}, 5000))
	m := api.NewMetrics()
	f.Fuzz(func(t *testing.T, w, r []byte) {
		var out bytes.Buffer
		tap := newWireTap(rwc{Reader: bytes.NewReader(r), Writer: &out}, m).(*wireTap)
		if _, err := tap.Write(w); err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(tap)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, r) || !bytes.Equal(out.Bytes(), w) {
			t.Fatal("the tap changed the bytes")
		}
		if len(tap.in) > 4096+len(r) || len(tap.out) > 4096 {
			t.Fatalf("held %d/%d bytes", len(tap.in), len(tap.out))
		}
	})
}
