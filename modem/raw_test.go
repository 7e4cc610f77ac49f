package modem

import (
	"errors"
	"testing"
)

func TestRawRefusesWhatWouldBreakThePairing(t *testing.T) {
	m := &Modem{}
	for _, c := range []string{"AT+CSQ\r\nAT+CFUN=0", "AT+CSQ\x1a", "AT" + string(make([]byte, MaxRawCommand))} {
		if _, err := m.Raw(t.Context(), c); !errors.Is(err, ErrIncorrectParameters) {
			t.Errorf("Raw(%q) = %v, want ErrIncorrectParameters", c, err)
		}
	}
}
