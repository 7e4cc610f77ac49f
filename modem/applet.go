package modem

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
)

// AppletTemplate drives a multi-IMSI applet's "use profile N" command.
// Real applets are proprietary (reference §4.2: no public AID or INS
// codes), so a new SIM vendor is configuration, not code.
type AppletTemplate struct {
	// AID of the applet, hex.
	AID string `yaml:"aid" json:"aid"`
	// APDUs sent in order on a logical channel to the applet.
	APDUs []APDUTemplate `yaml:"apdus" json:"apdus"`
}

// APDUTemplate is one command of the template.
type APDUTemplate struct {
	// APDU in hex; "{index}" is replaced by the profile index as one byte
	// (two hex digits). Spaces are ignored.
	APDU string `yaml:"apdu" json:"apdu"`
	// Expect lists the accepted status words, hex, X matching any nibble
	// ("9000", "91XX"). Empty means 9000 or 91XX.
	Expect []string `yaml:"expect,omitempty" json:"expect,omitempty"`
}

// DefaultAppletTemplate matches the example applet of imsid's simulator
// (docs/sim-card.md): SET ACTIVE, CLA 80 INS 14, P1 the index, P2 01
// "refresh now".
func DefaultAppletTemplate() AppletTemplate {
	return AppletTemplate{
		AID:   "F04D554C5449494D5349",
		APDUs: []APDUTemplate{{APDU: "8014{index}01", Expect: []string{"9000", "91XX"}}},
	}
}

// Validate checks the template without a modem.
func (t AppletTemplate) Validate() error {
	aid, err := hex.DecodeString(strings.ReplaceAll(t.AID, " ", ""))
	if err != nil || len(aid) < 5 || len(aid) > 16 {
		return fmt.Errorf("modem: applet template: aid %q: want 5 to 16 bytes of hex", t.AID)
	}
	if len(t.APDUs) == 0 {
		return fmt.Errorf("modem: applet template: no apdus")
	}
	for i, a := range t.APDUs {
		if _, err := a.build(0); err != nil {
			return fmt.Errorf("modem: applet template: apdus[%d]: %w", i, err)
		}
		for _, e := range a.Expect {
			if _, _, err := swPattern(e); err != nil {
				return fmt.Errorf("modem: applet template: apdus[%d].expect: %w", i, err)
			}
		}
	}
	return nil
}

// build fills in the index and decodes the APDU.
func (a APDUTemplate) build(index int) (APDU, error) {
	if index < 0 || index > 255 {
		return APDU{}, fmt.Errorf("profile index %d does not fit a byte", index)
	}
	s := strings.ReplaceAll(a.APDU, " ", "")
	s = strings.ReplaceAll(s, "{index}", fmt.Sprintf("%02X", index))
	b, err := hex.DecodeString(s)
	if err != nil {
		return APDU{}, fmt.Errorf("apdu %q: %v", a.APDU, err)
	}
	return decodeCommandAPDU(b)
}

// decodeCommandAPDU reads a short command APDU (cases 1 to 4).
func decodeCommandAPDU(b []byte) (APDU, error) {
	if len(b) < 4 {
		return APDU{}, fmt.Errorf("apdu of %d bytes: want at least 4", len(b))
	}
	a := APDU{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0:
	case len(body) == 1:
		a.Le = int(body[0])
		if a.Le == 0 {
			a.Le = 256
		}
	case int(body[0]) == len(body)-1 && body[0] != 0:
		a.Data = body[1:]
	case int(body[0]) == len(body)-2 && body[0] != 0:
		a.Data = body[1 : len(body)-1]
		a.Le = int(body[len(body)-1])
		if a.Le == 0 {
			a.Le = 256
		}
	default:
		return APDU{}, fmt.Errorf("apdu: Lc %d does not match %d data bytes", body[0], len(body)-1)
	}
	return a, nil
}

// swPattern parses "90XX" into value and mask.
func swPattern(p string) (val, mask uint16, err error) {
	p = strings.ToUpper(strings.TrimSpace(p))
	if len(p) != 4 {
		return 0, 0, fmt.Errorf("status word %q: want 4 hex digits", p)
	}
	for _, c := range []byte(p) {
		val, mask = val<<4, mask<<4
		if c == 'X' {
			continue
		}
		n, ok := hexNibble(c)
		if !ok {
			return 0, 0, fmt.Errorf("status word %q: bad digit %q", p, c)
		}
		val |= uint16(n)
		mask |= 0xF
	}
	return val, mask, nil
}

func (a APDUTemplate) accepts(sw SW) bool {
	if len(a.Expect) == 0 {
		return sw.OK()
	}
	for _, e := range a.Expect {
		if v, m, err := swPattern(e); err == nil && uint16(sw)&m == v {
			return true
		}
	}
	return false
}

// SelectAppletProfile asks the applet to make profile index active by
// sending the template's APDUs. It does not wait for the refresh that
// follows: see SwitchAppletProfile.
func (m *Modem) SelectAppletProfile(ctx context.Context, tmpl AppletTemplate, index int) error {
	if err := tmpl.Validate(); err != nil {
		return err
	}
	apdus := make([]APDU, len(tmpl.APDUs))
	for i, t := range tmpl.APDUs {
		a, err := t.build(index)
		if err != nil {
			return fmt.Errorf("modem: applet template: apdus[%d]: %w", i, err)
		}
		apdus[i] = a
	}
	aid, _ := hex.DecodeString(strings.ReplaceAll(tmpl.AID, " ", ""))
	ch, err := m.OpenChannel(ctx, aid)
	if err != nil {
		return fmt.Errorf("modem: applet: %w", err)
	}
	defer func() {
		// A "refresh now" applet resets the card under the channel.
		if cerr := ch.Close(context.WithoutCancel(ctx)); cerr != nil {
			m.cfg.logger.Debug("modem: closing the applet channel failed", "err", cerr)
		}
	}()
	for i, a := range apdus {
		r, err := ch.Transmit(ctx, a)
		if err != nil {
			return fmt.Errorf("modem: applet apdus[%d]: %w", i, err)
		}
		if !tmpl.APDUs[i].accepts(r.SW) {
			return &SWError{Op: fmt.Sprintf("applet apdus[%d] %s", i, a.Hex()), SW: r.SW}
		}
	}
	return nil
}
