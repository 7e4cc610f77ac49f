package sim

import "fmt"

// SW is an ISO 7816-4 status word, SW1 in the high byte.
type SW uint16

// Status words the card answers with.
const (
	SWOK                   SW = 0x9000
	SWEndOfFile            SW = 0x6282 // fewer bytes than requested
	SWWrongLength          SW = 0x6700
	SWIncompatibleFile     SW = 0x6981 // e.g. READ RECORD on a transparent file
	SWSecurityNotSatisfied SW = 0x6982
	SWConditionsNotMet     SW = 0x6985 // e.g. applet busy
	SWNoCurrentEF          SW = 0x6986
	SWWrongData            SW = 0x6A80
	SWFuncNotSupported     SW = 0x6A81
	SWFileNotFound         SW = 0x6A82
	SWRecordNotFound       SW = 0x6A83
	SWWrongP1P2            SW = 0x6A86
	SWRefDataNotFound      SW = 0x6A88
	SWWrongOffset          SW = 0x6B00
	SWINSNotSupported      SW = 0x6D00
	SWCLANotSupported      SW = 0x6E00
	SWChannelNotSupported  SW = 0x6881
)

// SW1 is the first status byte.
func (s SW) SW1() byte { return byte(s >> 8) }

// SW2 is the second status byte.
func (s SW) SW2() byte { return byte(s) }

// OK reports whether the status word means success: 9000, or any 9x or 61xx
// as SGP.22 and lpac treat them.
func (s SW) OK() bool { return s.SW1()&0xF0 == 0x90 || s.SW1() == 0x61 }

func (s SW) String() string { return fmt.Sprintf("%04X", uint16(s)) }
