package sim

import (
	"bytes"
	"fmt"
)

// ES10c functions (SGP.22) the ISD-R answers.
const (
	TagGetProfilesInfo = 0xBF2D
	TagEnableProfile   = 0xBF31
	TagDisableProfile  = 0xBF32
	TagGetEUICCData    = 0xBF3E
	TagSetNickname     = 0xBF29
)

// ES10c EnableProfile / DisableProfile results.
const (
	ResultOK                      = 0
	ResultNotFound                = 1 // iccidOrAidNotFound
	ResultWrongState              = 2 // profileNotInDisabledState / profileNotInEnabledState
	ResultDisallowedByPolicy      = 3
	ResultCATBusy                 = 5
	ResultUndefinedError          = 127
	maxStoreData                  = 64 * 1024
	storeDataMore            byte = 0x11
	storeDataLast            byte = 0x91
)

// isdr handles STORE DATA: blocks are reassembled per channel (P2 counts
// from 0), the last block (P1 91) runs the ES10c function.
func (c *Card) isdr(st *channel, cmd command) ([]byte, SW) {
	if cmd.ins != 0xE2 {
		return nil, SWINSNotSupported
	}
	if cmd.p1 != storeDataMore && cmd.p1 != storeDataLast {
		st.store, st.storeNext = nil, 0
		return nil, SWWrongP1P2
	}
	if int(cmd.p2) != st.storeNext {
		st.store, st.storeNext = nil, 0
		return nil, SWWrongP1P2
	}
	if !cmd.hasData || len(st.store)+len(cmd.data) > maxStoreData {
		st.store, st.storeNext = nil, 0
		return nil, SWWrongLength
	}
	st.store = append(st.store, cmd.data...)
	if cmd.p1 == storeDataMore {
		st.storeNext++
		return nil, SWOK
	}
	req := st.store
	st.store, st.storeNext = nil, 0
	return c.es10c(req)
}

func (c *Card) es10c(req []byte) ([]byte, SW) {
	t, err := parseTree(req)
	if err != nil || !constructedTag(t.tag) {
		return nil, SWWrongData
	}
	inner := t.kids
	switch t.tag {
	case TagGetProfilesInfo:
		return c.getProfilesInfo(inner), SWOK
	case TagEnableProfile:
		return result(TagEnableProfile, c.enableDisable(inner, true)), SWOK
	case TagDisableProfile:
		return result(TagDisableProfile, c.enableDisable(inner, false)), SWOK
	case TagSetNickname:
		return result(TagSetNickname, c.setNickname(inner)), SWOK
	case TagGetEUICCData:
		return new(ber).nest(TagGetEUICCData, func(e *ber) { e.add(0x5A, encEID(c.cfg.EID)) }).bytes(), SWOK
	}
	if resp, ok := c.es10ab(t.tag, inner); ok {
		return resp, SWOK
	}
	return nil, SWRefDataNotFound
}

// result is the common ES10 answer shape: tag { 80 <result code> }.
func result(tag uint32, code int) []byte {
	return new(ber).nest(tag, func(e *ber) { e.add(0x80, []byte{byte(code)}) }).bytes()
}

// profileID reads the profileIdentifier CHOICE: lpac wraps it in A0, a
// bare 4F or 5A is accepted too.
func profileID(inner []node) (node, bool) {
	if a0, ok := pick(inner, 0xA0); ok {
		if len(a0.kids) != 1 {
			return node{}, false
		}
		inner = a0.kids
	}
	for _, t := range inner {
		if t.tag == 0x4F || t.tag == 0x5A {
			return t, true
		}
	}
	return node{}, false
}

func (c *Card) findProfile(id node) int {
	for i, p := range c.profs {
		if (id.tag == 0x4F && bytes.Equal(id.raw, p.aid)) ||
			(id.tag == 0x5A && bytes.Equal(id.raw, encTBCD(p.iccid, 10))) {
			return i
		}
	}
	return -1
}

// refreshFlag accepts lpac's context tag 81 and openpilot's universal
// BOOLEAN 01 (with its non-canonical TRUE 01); absent means false.
func refreshFlag(inner []node) bool {
	for _, t := range inner {
		if (t.tag == 0x81 || t.tag == 0x01) && len(t.raw) == 1 {
			return t.raw[0] != 0
		}
	}
	return false
}

func (c *Card) enableDisable(inner []node, enable bool) int {
	if c.catBusy {
		return ResultCATBusy
	}
	id, ok := profileID(inner)
	if !ok {
		return ResultUndefinedError
	}
	i := c.findProfile(id)
	if i < 0 {
		return ResultNotFound
	}
	return c.switchProfile(i, enable, refreshFlag(inner))
}

// switchProfile changes the ES10c state at once. With refresh the files
// follow too and a UICC-reset REFRESH is queued; without it the old
// identity stays until the next Reset.
func (c *Card) switchProfile(i int, enable, refresh bool) int {
	if enable {
		if i == c.enabled {
			return ResultWrongState
		}
		if c.enabled >= 0 && c.profs[c.enabled].disallowDisable {
			return ResultDisallowedByPolicy
		}
		c.enabled = i
	} else {
		if i != c.enabled {
			return ResultWrongState
		}
		if c.profs[i].disallowDisable {
			return ResultDisallowedByPolicy
		}
		c.enabled = -1
	}
	if refresh {
		c.live = c.enabled
		reason := "eUICC EnableProfile"
		if !enable {
			reason = "eUICC DisableProfile"
		}
		c.queueRefresh(RefreshUICCReset, reason)
	}
	return ResultOK
}

func (c *Card) enableByICCID(iccid string, refresh bool) (int, error) {
	if !c.IsEUICC() {
		return ResultUndefinedError, fmt.Errorf("sim: enable profile: %w", ErrNotFound)
	}
	if c.catBusy {
		return ResultCATBusy, nil
	}
	i := c.findProfile(node{tag: 0x5A, raw: encTBCD(iccid, 10)})
	if i < 0 {
		return ResultNotFound, fmt.Errorf("sim: enable profile: %w", ErrNotFound)
	}
	return c.switchProfile(i, true, refresh), nil
}

// getProfilesInfo answers BF2D with an optional searchCriteria (A0 holding
// 4F, 5A or 95) and tagList (5C); a malformed request gets
// profileInfoListError incorrectInputValues (81 01 01).
func (c *Card) getProfilesInfo(inner []node) []byte {
	// profileInfoListError [1] incorrectInputValues (1).
	listErr := new(ber).nest(TagGetProfilesInfo, func(e *ber) { e.add(0x81, []byte{1}) }).bytes()
	var want []uint32
	if tl, ok := pick(inner, 0x5C); ok {
		var err error
		if want, err = parseTags(tl.raw); err != nil {
			return listErr
		}
	}
	var crit *node
	if a0, ok := pick(inner, 0xA0); ok {
		ts := a0.kids
		if len(ts) != 1 || (ts[0].tag != 0x4F && ts[0].tag != 0x5A && ts[0].tag != 0x95) {
			return listErr
		}
		crit = &ts[0]
	}
	include := func(tag uint32) bool {
		if want == nil {
			return true
		}
		for _, w := range want {
			if w == tag {
				return true
			}
		}
		return false
	}
	profile := func(e *ber, i int, p profile, iccid []byte) {
		state := byte(0)
		if i == c.enabled {
			state = 1
		}
		add := func(tag uint32, val []byte, optional bool) {
			if include(tag) && (!optional || len(val) > 0) {
				e.add(tag, val)
			}
		}
		add(0x5A, iccid, false)
		add(0x4F, p.aid, false)
		add(0x9F70, []byte{state}, false)
		add(0x90, []byte(p.nickname), true)
		add(0x91, []byte(p.provider), true)
		add(0x92, []byte(p.name), true)
		add(0x95, []byte{p.classCode}, false)
	}
	return new(ber).nest(TagGetProfilesInfo, func(e *ber) {
		e.nest(0xA0, func(e *ber) { // profileInfoListOk
			for i, p := range c.profs {
				iccid := encTBCD(p.iccid, 10)
				if crit != nil {
					match := (crit.tag == 0x4F && bytes.Equal(crit.raw, p.aid)) ||
						(crit.tag == 0x5A && bytes.Equal(crit.raw, iccid)) ||
						(crit.tag == 0x95 && bytes.Equal(crit.raw, []byte{p.classCode}))
					if !match {
						continue
					}
				}
				e.nest(0xE3, func(e *ber) { profile(e, i, p, iccid) })
			}
		})
	}).bytes()
}

// setNickname is ES10c SetNickname: BF29 { 5A iccid, 90 nickname } ->
// ok (0), iccidNotFound (1), undefinedError (127).
func (c *Card) setNickname(inner []node) int {
	id, ok := pick(inner, 0x5A)
	nick, ok2 := pick(inner, 0x90)
	if !ok || !ok2 || len(nick.raw) > 64 {
		return ResultUndefinedError
	}
	i := c.findProfile(id)
	if i < 0 {
		return ResultNotFound
	}
	c.profs[i].nickname = string(nick.raw)
	return ResultOK
}
