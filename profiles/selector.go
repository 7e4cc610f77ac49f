package profiles

import (
	"encoding/hex"
	"fmt"
	"strconv"
)

// Selector is what makes a profile active, by selection method.
type Selector struct {
	Method Method
	Index  int   // applet (and autonomous, when configured): the IMSI index
	ICCID  ICCID // euicc: the profile to enable
	Slot   int   // slot: the SIM slot, from 1
}

// String describes the selector with the ICCID masked.
func (s Selector) String() string {
	switch s.Method {
	case MethodApplet:
		return "applet index " + strconv.Itoa(s.Index)
	case MethodEUICC:
		return "euicc iccid " + s.ICCID.String()
	case MethodSlot:
		return "slot " + strconv.Itoa(s.Slot)
	}
	return string(s.Method)
}

// Selector returns how to activate p under c's selection method. For the
// autonomous method it reports false: imsid does not select, it observes.
func (c *Config) Selector(p *Profile) (Selector, bool) {
	s := Selector{Method: c.SIM.Method}
	switch c.SIM.Method {
	case MethodApplet:
		if p.Index == nil {
			return s, false
		}
		s.Index = *p.Index
	case MethodEUICC:
		s.ICCID = p.ICCID
	case MethodSlot:
		if p.Slot == nil {
			return s, false
		}
		s.Slot = *p.Slot
	default:
		return s, false
	}
	return s, true
}

// ActivateCommand returns the command that makes IMSI index active.
func (a *Applet) ActivateCommand(index int) []byte {
	return mustHex(ExpandAPDU(a.ActivateAPDU, a.AID, index))
}

// SuccessSW reports whether the status word sw is one of ExpectSW.
func (a *Applet) SuccessSW(sw uint16) bool {
	got := fmt.Sprintf("%04X", sw)
	for _, want := range a.ExpectSW {
		if len(want) == 4 && want[:2] == got[:2] && (want[2:] == "XX" || want[2:] == got[2:]) {
			return true
		}
	}
	return false
}

// mustHex decodes a template validation has already checked; an unchecked
// one yields nil rather than a panic.
func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil
	}
	return b
}
