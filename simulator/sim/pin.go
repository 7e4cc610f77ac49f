package sim

import "bytes"

// PIN handling of the USIM (ETSI TS 102 221 §11.1.9-11.1.13, ISO 7816-4
// §11.5.6-11.5.10). The simulated card's PIN1 is disabled, so a modem never
// has to enter it, but its retry counters are real: VERIFY PIN and UNBLOCK
// PIN with an empty data field report them as 63CX, which is how a modem
// answers AT+CPINR and Quectel's AT+QPINC.

const (
	pinTriesMax = 3  // TS 102 221: PIN retry counter initial value
	pukTriesMax = 10 // TS 102 221: UNBLOCK PIN retry counter initial value
)

// defaultPIN is PIN1 as VERIFY compares it: "1234" padded with FF to eight
// bytes (TS 102 221 §9.5.1).
var defaultPIN = []byte{'1', '2', '3', '4', 0xFF, 0xFF, 0xFF, 0xFF}

// pinState is the card's PIN1 and PUK1 counters; it survives a reset as the
// counters on a real card do, while "verified" is per session.
type pinState struct {
	pinLeft, pukLeft int
	verified         bool
}

func newPINState() pinState { return pinState{pinLeft: pinTriesMax, pukLeft: pukTriesMax} }

// PINRetries reports PIN1's and PUK1's remaining attempts.
func (c *Card) PINRetries() (pin, puk int) { return c.pin.pinLeft, c.pin.pukLeft }

// keyRef checks P2 of VERIFY/UNBLOCK: 01 (PIN Appl 1, TS 102 221 table
// 9.3) is the only PIN this card has; 81 (the USIM's PIN2) and the others
// are not found.
func keyRef(cmd command) SW {
	if cmd.p1 != 0x00 {
		return SWWrongP1P2
	}
	if cmd.p2 != 0x01 {
		return SWRefDataNotFound
	}
	return SWOK
}

func triesSW(n int) SW {
	if n <= 0 {
		return 0x6983 // authentication method blocked
	}
	return SW(0x63C0 | n&0x0F)
}

// verifyPIN is INS 20. Without data it only reports: 63CX (X tries left), or
// 9000 once PIN1 was verified in this session. With data (8 bytes) it
// compares, decrementing the counter on a mismatch.
func (c *Card) verifyPIN(cmd command) ([]byte, SW) {
	if sw := keyRef(cmd); sw != SWOK {
		return nil, sw
	}
	p := &c.pin
	if !cmd.hasData {
		if p.verified {
			return nil, SWOK
		}
		return nil, triesSW(p.pinLeft)
	}
	if len(cmd.data) != 8 {
		return nil, SWWrongLength
	}
	if p.pinLeft <= 0 {
		return nil, triesSW(0)
	}
	if !bytes.Equal(cmd.data, defaultPIN) {
		p.pinLeft--
		p.verified = false
		return nil, triesSW(p.pinLeft)
	}
	p.pinLeft, p.verified = pinTriesMax, true
	return nil, SWOK
}

// unblockPIN is INS 2C: empty data reports the PUK counter as 63CX. The
// card has no PUK a client could know, so an unblock attempt only counts
// down.
func (c *Card) unblockPIN(cmd command) ([]byte, SW) {
	if sw := keyRef(cmd); sw != SWOK {
		return nil, sw
	}
	p := &c.pin
	if !cmd.hasData {
		return nil, triesSW(p.pukLeft)
	}
	if len(cmd.data) != 16 {
		return nil, SWWrongLength
	}
	if p.pukLeft > 0 {
		p.pukLeft--
	}
	return nil, triesSW(p.pukLeft)
}
