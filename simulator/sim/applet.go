package sim

import (
	"encoding/binary"
	"time"
)

// Instructions of the example multi-IMSI applet (CLA 80). The protocol is
// documented with hex examples in docs/sim-card.md; real applets are
// proprietary, so the driver treats this as a configurable template.
const (
	InsList        = 0x10 // 80 10 00 00 00 -> E1{80 idx, 81 IMSI ASCII, 82 SPN ASCII, 83 flags}...
	InsReadActive  = 0x12 // 80 12 00 00 02 -> <active> <pending|FF>
	InsSetActive   = 0x14 // 80 14 <idx> <00 next reset | 01 refresh now>
	InsGetConfig   = 0x16 // 80 16 00 00 07 -> <count> <flags> <rotate_after s, 4 bytes> <refresh qualifier>
	InsSetRotation = 0x18 // 80 18 <00 off | 01 on> 00 04 <seconds, 4 bytes>
)

// Flags in a LIST entry's 83 byte.
const (
	ListFlagActive  = 0x01
	ListFlagPending = 0x02
)

// SetActive P2 values.
const (
	SetActiveNextReset  = 0x00
	SetActiveRefreshNow = 0x01
)

func (c *Card) applet(cmd command) ([]byte, SW) {
	p := c.liveProfile()
	noData := func() SW {
		if cmd.hasData {
			return SWWrongLength
		}
		return SWOK
	}
	switch cmd.ins {
	case InsList:
		if sw := noData(); sw != SWOK {
			return nil, sw
		}
		if cmd.p1 != 0 || cmd.p2 != 0 {
			return nil, SWWrongP1P2
		}
		var out ber
		for i, e := range p.imsis {
			var flags byte
			if i == p.active {
				flags |= ListFlagActive
			}
			if i == p.pending {
				flags |= ListFlagPending
			}
			out.nest(0xE1, func(b *ber) {
				b.add(0x80, []byte{byte(i)}).
					add(0x81, []byte(e.cfg.IMSI)).
					add(0x82, []byte(e.cfg.SPN)).
					add(0x83, []byte{flags})
			})
		}
		return out.bytes(), SWOK
	case InsReadActive:
		if sw := noData(); sw != SWOK {
			return nil, sw
		}
		if cmd.p1 != 0 || cmd.p2 != 0 {
			return nil, SWWrongP1P2
		}
		pending := byte(0xFF)
		if p.pending >= 0 {
			pending = byte(p.pending)
		}
		return []byte{byte(p.active), pending}, SWOK
	case InsSetActive:
		if sw := noData(); sw != SWOK {
			return nil, sw
		}
		if int(cmd.p1) >= len(p.imsis) || (cmd.p2 != SetActiveNextReset && cmd.p2 != SetActiveRefreshNow) {
			return nil, SWWrongP1P2
		}
		if c.catBusy {
			return nil, SWConditionsNotMet
		}
		_ = c.setActive(int(cmd.p1), cmd.p2 == SetActiveRefreshNow, "applet SET ACTIVE")
		return nil, SWOK
	case InsGetConfig:
		if sw := noData(); sw != SWOK {
			return nil, sw
		}
		if cmd.p1 != 0 || cmd.p2 != 0 {
			return nil, SWWrongP1P2
		}
		out := []byte{byte(len(p.imsis)), 0, 0, 0, 0, 0, c.appletQ}
		if c.rot.Enabled {
			out[1] = 0x01
		}
		binary.BigEndian.PutUint32(out[2:6], uint32(c.rot.RotateAfter/time.Second))
		return out, SWOK
	case InsSetRotation:
		if len(cmd.data) != 4 || cmd.le >= 0 {
			return nil, SWWrongLength
		}
		if cmd.p1 > 1 || cmd.p2 != 0 {
			return nil, SWWrongP1P2
		}
		secs := binary.BigEndian.Uint32(cmd.data)
		if cmd.p1 == 1 && secs == 0 {
			return nil, SWWrongData
		}
		c.rot.Enabled = cmd.p1 == 1
		if secs > 0 {
			c.rot.RotateAfter = time.Duration(secs) * time.Second
		}
		return nil, SWOK
	}
	return nil, SWINSNotSupported
}
