package sim

import (
	"bytes"
	"encoding/hex"
)

type app int

const (
	appNone app = iota // MF only
	appUSIM
	appApplet
	appISDR
)

// channel is the per-channel state ISO 7816-4 keeps: the selected
// application and EF, the data GET RESPONSE has yet to deliver, and the
// STORE DATA blocks received so far.
type channel struct {
	app       app
	ef        uint16
	pending   []byte
	store     []byte
	storeNext int
}

func newBasicChannel() *channel { return &channel{app: appUSIM} }

// command is one parsed short APDU. le is -1 when absent; an Le byte of 00
// is kept as 0 and means "as much as there is".
type command struct {
	cla, ins, p1, p2 byte
	data             []byte
	hasData          bool
	le               int
}

func parseCommand(b []byte) (command, SW) {
	if len(b) < 4 {
		return command{}, SWWrongLength
	}
	cmd := command{cla: b[0], ins: b[1], p1: b[2], p2: b[3], le: -1}
	switch body := b[4:]; {
	case len(body) == 0:
	case len(body) == 1:
		cmd.le = int(body[0])
	case body[0] == 0:
		return command{}, SWWrongLength // extended length is not supported
	case len(body) == 1+int(body[0]):
		cmd.data, cmd.hasData = body[1:], true
	case len(body) == 2+int(body[0]):
		cmd.data, cmd.hasData = body[1:len(body)-1], true
		cmd.le = int(body[len(body)-1])
	default:
		return command{}, SWWrongLength
	}
	return cmd, SWOK
}

// decodeCLA returns the logical channel the class byte names and whether it
// is the proprietary (80) class. TS 102 221 codes 8X like 0X and CX like 4X;
// A0 is the GSM class, accepted on the basic channel for old-style SELECT and
// READ BINARY.
func decodeCLA(cla byte) (ch int, prop bool, sw SW) {
	if cla == 0xA0 {
		return 0, false, SWOK
	}
	prop = cla&0x80 != 0
	base := cla & 0x7F
	switch {
	case base&0x60 == 0x00: // first interindustry: b5 chaining, b4-b3 SM, b2-b1 channel
		if base&0x10 != 0 {
			if prop {
				return 0, false, SWCLANotSupported
			}
			return 0, false, 0x6884
		}
		if base&0x0C != 0 {
			return 0, false, 0x6882
		}
		return int(base & 0x03), prop, SWOK
	case base&0x40 != 0: // further interindustry: b6 SM, b5 chaining, b4-b1 channel-4
		if base&0x10 != 0 {
			return 0, false, 0x6884
		}
		if base&0x20 != 0 {
			return 0, false, 0x6882
		}
		return 4 + int(base&0x0F), prop, SWOK
	}
	return 0, false, SWCLANotSupported
}

func withSW(data []byte, sw SW) []byte { return append(data, sw.SW1(), sw.SW2()) }

// Transmit runs one APDU on the channel its CLA names (+CSIM), including
// MANAGE CHANNEL, and returns the response data followed by SW1 SW2. It
// never panics and always returns at least the two SW bytes.
func (c *Card) Transmit(apdu []byte) []byte {
	cmd, sw := parseCommand(apdu)
	if sw != SWOK {
		return withSW(nil, sw)
	}
	ch, prop, sw := decodeCLA(cmd.cla)
	if sw != SWOK {
		return withSW(nil, sw)
	}
	if ch >= len(c.chans) || c.chans[ch] == nil {
		return withSW(nil, SWChannelNotSupported)
	}
	return c.run(ch, prop, cmd)
}

// OpenChannel opens the lowest free logical channel and selects aid on it
// (+CCHO). An AID prefix of at least 5 bytes selects as ISO 7816-4 partial
// DF names do.
func (c *Card) OpenChannel(aid []byte) (int, error) {
	ch := c.freeChannel()
	if ch < 0 {
		return 0, ErrNoChannel
	}
	a, ok := c.resolveAID(aid)
	if !ok {
		return 0, ErrAIDNotFound
	}
	c.chans[ch] = &channel{app: a}
	return ch, nil
}

// TransmitChannel runs one APDU on an open logical channel (+CGLA). The
// channel bits of CLA are replaced by ch, as the MT does under 27.007, so
// both a bare 80 and lpac's 80|ch work. APDU-level problems come back as
// status words; only an unknown channel is an error.
func (c *Card) TransmitChannel(ch int, apdu []byte) ([]byte, error) {
	if ch < 1 || ch >= len(c.chans) || c.chans[ch] == nil {
		return nil, ErrInvalidChannel
	}
	cmd, sw := parseCommand(apdu)
	if sw != SWOK {
		return withSW(nil, sw), nil
	}
	_, prop, sw := decodeCLA(cmd.cla)
	if sw != SWOK {
		return withSW(nil, sw), nil
	}
	return c.run(ch, prop, cmd), nil
}

// CloseChannel closes a logical channel (+CCHC).
func (c *Card) CloseChannel(ch int) error {
	if ch < 1 || ch >= len(c.chans) || c.chans[ch] == nil {
		return ErrInvalidChannel
	}
	c.chans[ch] = nil
	return nil
}

// OpenChannels lists the open logical channels (not the basic one).
func (c *Card) OpenChannels() []int {
	var out []int
	for i := 1; i < len(c.chans); i++ {
		if c.chans[i] != nil {
			out = append(out, i)
		}
	}
	return out
}

func (c *Card) freeChannel() int {
	for i := 1; i < len(c.chans); i++ {
		if c.chans[i] == nil {
			return i
		}
	}
	return -1
}

func (c *Card) resolveAID(aid []byte) (app, bool) {
	if len(aid) < 5 {
		return appNone, false
	}
	usim, _ := hex.DecodeString(USIMAID)
	isdr, _ := hex.DecodeString(ISDRAID)
	live := c.liveProfile() != nil
	switch {
	case live && bytes.HasPrefix(usim, aid):
		return appUSIM, true
	case live && c.appletAID != nil && bytes.HasPrefix(c.appletAID, aid):
		return appApplet, true
	case c.IsEUICC() && bytes.HasPrefix(isdr, aid):
		return appISDR, true
	}
	return appNone, false
}

func (c *Card) appAID(a app) []byte {
	switch a {
	case appUSIM:
		b, _ := hex.DecodeString(USIMAID)
		return b
	case appApplet:
		return c.appletAID
	case appISDR:
		b, _ := hex.DecodeString(ISDRAID)
		return b
	}
	return nil
}

// run executes cmd on channel ch and turns long answers into 61xx.
func (c *Card) run(ch int, prop bool, cmd command) []byte {
	st := c.chans[ch]
	if cmd.ins == 0xC0 {
		return c.getResponse(st, cmd)
	}
	st.pending = nil
	data, sw := c.exec(ch, st, prop, cmd)
	if sw == SWOK && len(data) > c.respLimit {
		st.pending = data
		return withSW(nil, more(len(data)))
	}
	return withSW(data, sw)
}

// more is 61xx, xx the bytes still available (00 meaning 256 or more).
func more(n int) SW { return SW(0x6100 | min(n, 256)&0xFF) }

func (c *Card) getResponse(st *channel, cmd command) []byte {
	switch {
	case cmd.p1 != 0 || cmd.p2 != 0:
		return withSW(nil, SWWrongP1P2)
	case cmd.hasData:
		return withSW(nil, SWWrongLength)
	case st.pending == nil:
		return withSW(nil, SWConditionsNotMet)
	}
	n := cmd.le
	if n <= 0 {
		n = 256
	}
	n = min(n, len(st.pending))
	out := append([]byte(nil), st.pending[:n]...)
	st.pending = st.pending[n:]
	if len(st.pending) > 0 {
		return withSW(out, more(len(st.pending)))
	}
	st.pending = nil
	return withSW(out, SWOK)
}

func (c *Card) exec(ch int, st *channel, prop bool, cmd command) ([]byte, SW) {
	if !prop {
		switch cmd.ins {
		case 0x70:
			return c.manageChannel(ch, st, cmd)
		case 0xA4:
			return c.sel(st, cmd)
		case 0xB0:
			return c.readBinaryAPDU(st, cmd)
		case 0xB2:
			return c.readRecordAPDU(st, cmd)
		case 0xD6:
			return c.updateBinaryAPDU(st, cmd)
		case 0x20:
			return c.verifyPIN(cmd)
		case 0x2C:
			return c.unblockPIN(cmd)
		case 0xF2, 0xE2, 0x10, 0x12, 0x14, 0x16, 0x18:
			return nil, SWCLANotSupported
		}
		return nil, SWINSNotSupported
	}
	switch cmd.ins {
	case 0xF2:
		return c.status(st, cmd)
	case 0x70, 0xA4, 0xB0, 0xB2, 0xD6:
		return nil, SWCLANotSupported
	}
	switch st.app {
	case appApplet:
		if c.liveProfile() != nil && c.appletAID != nil {
			return c.applet(cmd)
		}
	case appISDR:
		return c.isdr(st, cmd)
	}
	return nil, SWINSNotSupported
}

func (c *Card) manageChannel(ch int, st *channel, cmd command) ([]byte, SW) {
	if cmd.hasData {
		return nil, SWWrongLength
	}
	switch cmd.p1 {
	case 0x00: // open
		n := int(cmd.p2)
		if n == 0 {
			if n = c.freeChannel(); n < 0 {
				return nil, SWFuncNotSupported
			}
		} else if n >= len(c.chans) || c.chans[n] != nil {
			return nil, SWWrongP1P2
		}
		// Opened from the basic channel the MF is selected; from another
		// channel the new one inherits that channel's selection.
		nc := &channel{app: appNone}
		if ch != 0 {
			nc.app, nc.ef = st.app, st.ef
		}
		c.chans[n] = nc
		if cmd.p2 != 0 {
			return nil, SWOK
		}
		return []byte{byte(n)}, SWOK
	case 0x80: // close
		n := int(cmd.p2)
		if n == 0 {
			n = ch
		}
		if n == 0 || n >= len(c.chans) || c.chans[n] == nil {
			return nil, SWWrongP1P2
		}
		c.chans[n] = nil
		return nil, SWOK
	}
	return nil, SWWrongP1P2
}

func (c *Card) sel(st *channel, cmd command) ([]byte, SW) {
	if cmd.p2 != 0x00 && cmd.p2 != 0x04 && cmd.p2 != 0x0C {
		return nil, SWWrongP1P2
	}
	if !cmd.hasData {
		return nil, SWWrongLength
	}
	switch cmd.p1 {
	case 0x04:
		a, ok := c.resolveAID(cmd.data)
		if !ok {
			return nil, SWFileNotFound
		}
		st.app, st.ef, st.store, st.storeNext = a, 0, nil, 0
		if cmd.p2 == 0x0C {
			return nil, SWOK
		}
		if a == appUSIM {
			return c.fcp(FidADF), SWOK
		}
		return c.fci(a), SWOK
	case 0x00, 0x01, 0x02, 0x08, 0x09:
		path := cmd.data
		if len(path) == 0 || len(path)%2 != 0 || (cmd.p1 <= 0x02 && len(path) != 2) {
			return nil, SWWrongLength
		}
		var fid uint16
		var d fileDef
		for i := 0; i < len(path); i += 2 {
			fid = uint16(path[i])<<8 | uint16(path[i+1])
			var ok bool
			d, ok = c.lookup(fid)
			if !ok || (i+2 < len(path) && d.kind != kindDF) {
				return nil, SWFileNotFound
			}
		}
		if d.kind == kindDF {
			st.ef = 0
			if fid == FidADF || fid == FidDFGSM {
				st.app = appUSIM
			}
		} else {
			st.ef = fid
		}
		if cmd.p2 == 0x0C {
			return nil, SWOK
		}
		return c.fcp(fid), SWOK
	}
	return nil, SWWrongP1P2
}

// efFor resolves the EF a READ/UPDATE addresses: a short file identifier
// in sfiByte (when flagged) selects that file, else the current EF.
func (c *Card) efFor(st *channel, sfi byte, useSFI bool) (uint16, SW) {
	if useSFI {
		fid, ok := fidBySFI(sfi)
		if !ok {
			return 0, SWFileNotFound
		}
		if _, ok := c.lookup(fid); !ok {
			return 0, SWFileNotFound
		}
		st.ef = fid
		return fid, SWOK
	}
	if st.ef == 0 {
		return 0, SWNoCurrentEF
	}
	if _, ok := c.lookup(st.ef); !ok { // e.g. the profile went away
		return 0, SWFileNotFound
	}
	return st.ef, SWOK
}

func (c *Card) readBinaryAPDU(st *channel, cmd command) ([]byte, SW) {
	if cmd.hasData || cmd.le < 0 {
		return nil, SWWrongLength
	}
	useSFI := cmd.p1&0x80 != 0
	fid, sw := c.efFor(st, cmd.p1&0x1F, useSFI)
	if sw != SWOK {
		return nil, sw
	}
	off := int(cmd.p1&0x7F)<<8 | int(cmd.p2)
	if useSFI {
		off = int(cmd.p2)
	}
	return c.ReadBinary(fid, off, cmd.le)
}

func (c *Card) readRecordAPDU(st *channel, cmd command) ([]byte, SW) {
	if cmd.hasData || cmd.le < 0 {
		return nil, SWWrongLength
	}
	if cmd.p2&0x07 != 0x04 {
		return nil, SWWrongP1P2
	}
	sfi := cmd.p2 >> 3
	fid, sw := c.efFor(st, sfi, sfi != 0)
	if sw != SWOK {
		return nil, sw
	}
	return c.readRecord(fid, int(cmd.p1), cmd.le)
}

func (c *Card) updateBinaryAPDU(st *channel, cmd command) ([]byte, SW) {
	if !cmd.hasData || cmd.le >= 0 {
		return nil, SWWrongLength
	}
	useSFI := cmd.p1&0x80 != 0
	fid, sw := c.efFor(st, cmd.p1&0x1F, useSFI)
	if sw != SWOK {
		return nil, sw
	}
	off := int(cmd.p1&0x7F)<<8 | int(cmd.p2)
	if useSFI {
		off = int(cmd.p2)
	}
	return nil, c.updateBinary(fid, off, cmd.data)
}

// status is STATUS (80 F2): P2 00 FCP of the current application or DF,
// 01 its AID as a DF name TLV (84), 0C nothing.
func (c *Card) status(st *channel, cmd command) ([]byte, SW) {
	if cmd.hasData {
		return nil, SWWrongLength
	}
	if cmd.p1 > 0x02 {
		return nil, SWWrongP1P2
	}
	a := st.app
	if a == appUSIM && c.liveProfile() == nil {
		a = appNone
	}
	switch cmd.p2 {
	case 0x00:
		switch a {
		case appUSIM:
			return c.fcp(FidADF), SWOK
		case appNone:
			return c.fcp(FidMF), SWOK
		}
		return c.fci(a), SWOK
	case 0x01:
		if a == appNone {
			return nil, SWRefDataNotFound
		}
		return one(0x84, c.appAID(a)), SWOK
	case 0x0C:
		return nil, SWOK
	}
	return nil, SWWrongP1P2
}

// fci is the FCI template (6F) holding the DF name (84) of an application
// that is not the USIM (ISO 7816-4 §5.3.3).
func (c *Card) fci(a app) []byte {
	return new(ber).nest(0x6F, func(e *ber) { e.add(0x84, c.appAID(a)) }).bytes()
}
