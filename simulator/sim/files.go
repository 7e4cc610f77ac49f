package sim

import "encoding/hex"

// File identifiers the card knows. The namespace is flat: any known file can
// be selected from anywhere, which every modem's select sequence satisfies.
const (
	FidMF      uint16 = 0x3F00
	FidDIR     uint16 = 0x2F00 // EF_DIR, linear fixed, lists the USIM
	FidICCID   uint16 = 0x2FE2
	FidDFGSM   uint16 = 0x7F20
	FidADF     uint16 = 0x7FFF // the current application's ADF
	FidIMSI    uint16 = 0x6F07
	FidSPN     uint16 = 0x6F46
	FidFPLMN   uint16 = 0x6F7B
	FidAD      uint16 = 0x6FAD
	dirRecSize        = 32
)

type fileKind int

const (
	kindDF fileKind = iota
	kindTransparent
	kindLinear
)

type fileDef struct {
	kind    fileKind
	sfi     byte // TS 31.102 short file identifier, 0 if none
	profile bool // exists only while a profile is enabled
}

var files = map[uint16]fileDef{
	FidMF:    {kind: kindDF},
	FidDIR:   {kind: kindLinear, sfi: 0x1E, profile: true},
	FidICCID: {kind: kindTransparent, sfi: 0x02},
	FidDFGSM: {kind: kindDF, profile: true},
	FidADF:   {kind: kindDF, profile: true},
	FidIMSI:  {kind: kindTransparent, sfi: 0x07, profile: true},
	FidSPN:   {kind: kindTransparent, profile: true},
	FidFPLMN: {kind: kindTransparent, sfi: 0x0D, profile: true},
	FidAD:    {kind: kindTransparent, sfi: 0x03, profile: true},
}

func fidBySFI(sfi byte) (uint16, bool) {
	for fid, d := range files {
		if d.sfi != 0 && d.sfi == sfi {
			return fid, true
		}
	}
	return 0, false
}

// lookup reports whether fid exists now; profile files vanish while an
// eUICC has no enabled profile, and EF_ICCID without any ICCID to show.
func (c *Card) lookup(fid uint16) (fileDef, bool) {
	d, ok := files[fid]
	if !ok || (d.profile && c.liveProfile() == nil) || (fid == FidICCID && c.iccid() == "") {
		return fileDef{}, false
	}
	return d, true
}

// content is the current body of a transparent EF or the records of a
// linear one, concatenated.
func (c *Card) content(fid uint16) []byte {
	e := c.liveEntry()
	switch fid {
	case FidICCID:
		return encTBCD(c.iccid(), 10)
	case FidIMSI:
		return encIMSI(e.cfg.IMSI)
	case FidSPN:
		return encSPN(e.cfg.SPN)
	case FidFPLMN:
		return e.fplmn
	case FidAD:
		return encAD(e.cfg.MNCLength)
	case FidDIR:
		aid, _ := hex.DecodeString(USIMAID)
		rec := new(ber).nest(0x61, func(e *ber) { e.add(0x4F, aid).add(0x50, []byte("USIM")) }).bytes()
		for len(rec) < dirRecSize {
			rec = append(rec, 0xFF)
		}
		return rec
	}
	return nil
}

// ReadBinary reads a transparent EF by file ID: length 0 reads to the end
// (at most 256 bytes); asking past the end returns what there is with 6282.
func (c *Card) ReadBinary(fid uint16, offset, length int) ([]byte, SW) {
	d, ok := c.lookup(fid)
	switch {
	case !ok:
		return nil, SWFileNotFound
	case d.kind != kindTransparent:
		return nil, SWIncompatibleFile
	case offset < 0 || length < 0 || length > 256:
		return nil, SWWrongP1P2
	}
	body := c.content(fid)
	if offset >= len(body) {
		return nil, SWWrongOffset
	}
	avail := body[offset:]
	if length == 0 {
		return clip(avail, 256), SWOK
	}
	if length > len(avail) {
		return append([]byte(nil), avail...), SWEndOfFile
	}
	return append([]byte(nil), avail[:length]...), SWOK
}

// readRecord reads record rec (1-based, absolute mode) of a linear EF. A
// length that is neither 0 nor the record size gets 6Cxx with the size, as a
// T=0 card answers a wrong Le.
func (c *Card) readRecord(fid uint16, rec, length int) ([]byte, SW) {
	d, ok := c.lookup(fid)
	switch {
	case !ok:
		return nil, SWFileNotFound
	case d.kind != kindLinear:
		return nil, SWIncompatibleFile
	}
	body := c.content(fid)
	n := len(body) / dirRecSize
	if rec < 1 || rec > n {
		return nil, SWRecordNotFound
	}
	if length != 0 && length != dirRecSize {
		return nil, SW(0x6C00 | dirRecSize)
	}
	return append([]byte(nil), body[(rec-1)*dirRecSize:rec*dirRecSize]...), SWOK
}

// updateBinary lets the ME write EF_FPLMN (its access condition is PIN,
// which the simulator treats as verified); every other file is ADM-only.
func (c *Card) updateBinary(fid uint16, offset int, data []byte) SW {
	d, ok := c.lookup(fid)
	switch {
	case !ok:
		return SWFileNotFound
	case d.kind != kindTransparent:
		return SWIncompatibleFile
	case fid != FidFPLMN:
		return SWSecurityNotSatisfied
	}
	e := c.liveEntry()
	if offset < 0 || offset >= len(e.fplmn) {
		return SWWrongOffset
	}
	if len(data) == 0 || offset+len(data) > len(e.fplmn) {
		return SWWrongLength
	}
	copy(e.fplmn[offset:], data)
	return SWOK
}

// fcp is the FCP template (62) a SELECT with P2=04 or +CRSM GET RESPONSE
// returns.
func (c *Card) fcp(fid uint16) []byte {
	d := files[fid]
	id := []byte{byte(fid >> 8), byte(fid)}
	return new(ber).nest(0x62, func(e *ber) {
		switch d.kind {
		case kindDF:
			e.add(0x82, []byte{0x78, 0x21}).add(0x83, id)
			if fid == FidADF {
				aid, _ := hex.DecodeString(USIMAID)
				e.add(0x84, aid)
			}
			e.add(0x8A, []byte{0x05})
		case kindTransparent, kindLinear:
			size := len(c.content(fid))
			if d.kind == kindTransparent {
				e.add(0x82, []byte{0x41, 0x21})
			} else {
				e.add(0x82, []byte{0x42, 0x21, 0x00, dirRecSize, byte(size / dirRecSize)})
			}
			e.add(0x83, id).add(0x8A, []byte{0x05}).add(0x80, []byte{byte(size >> 8), byte(size)})
			if d.sfi != 0 {
				e.add(0x88, []byte{d.sfi << 3})
			}
		}
	}).bytes()
}

// +CRSM commands (27.007 §8.18).
const (
	CRSMReadBinary   = 176
	CRSMReadRecord   = 178
	CRSMGetResponse  = 192
	CRSMUpdateBinary = 214
	CRSMUpdateRecord = 220
	CRSMStatus       = 242
)

// CRSM mirrors 27.007 +CRSM: the MT selects fid itself and passes P1-P3 and
// data through, so this never changes any channel's selection. 176 READ
// BINARY (offset P1P2, length P3), 178 READ RECORD (record P1, mode P2 = 4,
// length P3), 192 GET RESPONSE (the file's FCP), 214 UPDATE BINARY
// (EF_FPLMN only, else 6982), 220 UPDATE RECORD (6982), 242 STATUS (FCP of
// the current DF). The caller turns the SW into "+CRSM: sw1,sw2[,data]".
func (c *Card) CRSM(cmd int, fid uint16, p1, p2, p3 int, data []byte) ([]byte, SW) {
	if p1 < 0 || p1 > 255 || p2 < 0 || p2 > 255 {
		return nil, SWWrongP1P2
	}
	if p3 < 0 || p3 > 255 {
		return nil, SWWrongLength
	}
	if cmd == CRSMStatus {
		if c.liveProfile() != nil {
			return c.fcp(FidADF), SWOK
		}
		return c.fcp(FidMF), SWOK
	}
	if cmd != CRSMReadBinary && cmd != CRSMReadRecord && cmd != CRSMGetResponse &&
		cmd != CRSMUpdateBinary && cmd != CRSMUpdateRecord {
		return nil, SWINSNotSupported
	}
	d, ok := c.lookup(fid)
	if !ok {
		return nil, SWFileNotFound
	}
	switch cmd {
	case CRSMReadBinary:
		if p1&0x80 != 0 {
			return nil, SWWrongOffset
		}
		return c.ReadBinary(fid, p1<<8|p2, p3)
	case CRSMReadRecord:
		if p2 != 0x04 {
			return nil, SWWrongP1P2
		}
		return c.readRecord(fid, p1, p3)
	case CRSMGetResponse:
		f := c.fcp(fid)
		if p3 > 0 && p3 < len(f) {
			f = f[:p3]
		}
		return f, SWOK
	case CRSMUpdateBinary:
		if len(data) != p3 {
			return nil, SWWrongLength
		}
		return nil, c.updateBinary(fid, p1<<8|p2, data)
	default: // CRSMUpdateRecord
		if d.kind != kindLinear {
			return nil, SWIncompatibleFile
		}
		return nil, SWSecurityNotSatisfied
	}
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		b = b[:n]
	}
	return append([]byte(nil), b...)
}
