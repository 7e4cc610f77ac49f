package modem

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ISDRAID is the ISD-R, the eUICC application ES10 commands go to (SGP.22).
var ISDRAID = []byte{0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x01, 0x00}

// ES10 tags (SGP.22 §5.7).
const (
	tagProfileInfoList = 0xBF2D
	tagEnableProfile   = 0xBF31
	tagDisableProfile  = 0xBF32
	tagGetEuiccData    = 0xBF3E
	tagProfileInfo     = 0xE3
	tagICCID           = 0x5A
	tagAID             = 0x4F
	tagProfileState    = 0x9F70
	tagNickname        = 0x90
	tagProvider        = 0x91
	tagProfileName     = 0x92
	tagProfileClass    = 0x95
)

// storeDataSegment is lpac's ES10 segment size (es10x_mss = 120).
const storeDataSegment = 120

// eUICC result sentinels; ES10Error maps result codes onto them.
var (
	ErrProfileNotFound        = errors.New("modem: eUICC profile not found (iccidOrAidNotFound)")
	ErrProfileState           = errors.New("modem: eUICC profile not in the required state")
	ErrDisallowedByPolicy     = errors.New("modem: eUICC operation disallowed by policy")
	ErrWrongProfileReenabling = errors.New("modem: eUICC wrong profile re-enabling")
	ErrCATBusy                = errors.New("modem: eUICC CAT busy (proactive session pending)")
	ErrEUICCUndefined         = errors.New("modem: eUICC undefined error")
)

// ES10Error is a non-zero result code from an ES10c operation.
type ES10Error struct {
	Op   string // "EnableProfile", "DisableProfile", "GetProfilesInfo"
	Code int
}

var es10Names = map[int]string{
	1: "iccidOrAidNotFound", 2: "profileNotInDisabledState", 3: "disallowedByPolicy",
	4: "wrongProfileReenabling", 5: "catBusy", 127: "undefinedError",
}

func (e *ES10Error) Error() string {
	name := es10Names[e.Code]
	if e.Op == "DisableProfile" && e.Code == 2 {
		name = "profileNotInEnabledState"
	}
	if name == "" {
		name = "unknown"
	}
	return fmt.Sprintf("modem: %s: result %d (%s)", e.Op, e.Code, name)
}

// Is maps the code onto the sentinels.
func (e *ES10Error) Is(target error) bool {
	switch e.Code {
	case 1:
		return target == ErrProfileNotFound
	case 2:
		return target == ErrProfileState
	case 3:
		return target == ErrDisallowedByPolicy
	case 4:
		return target == ErrWrongProfileReenabling
	case 5:
		return target == ErrCATBusy
	}
	return target == ErrEUICCUndefined
}

// ProfileState is an eUICC profile's state.
type ProfileState int

// Profile states (SGP.22 profileState).
const (
	ProfileDisabled ProfileState = 0
	ProfileEnabled  ProfileState = 1
)

func (s ProfileState) String() string {
	switch s {
	case ProfileDisabled:
		return "disabled"
	case ProfileEnabled:
		return "enabled"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// ProfileInfo is one entry of the eUICC's profile list.
type ProfileInfo struct {
	ICCID    ICCID
	AID      []byte
	State    ProfileState
	Nickname string
	Provider string
	Name     string
	Class    *int // 0 test, 1 provisioning, 2 operational; nil when absent
}

// ProfileRef names a profile by ICCID or by ISD-P AID (some eUICCs only
// enable by one of them; lpac's advice is to try both).
type ProfileRef struct {
	ICCID ICCID
	AID   []byte
}

// EncodeICCIDTBCD packs an ICCID as SGP.22 wants it: nibbles swapped, F padded.
func EncodeICCIDTBCD(c ICCID) ([]byte, error) {
	s := strings.ToUpper(string(c))
	if len(s) < 18 || len(s) > 20 {
		return nil, fmt.Errorf("modem: ICCID of %d digits", len(s))
	}
	if len(s)%2 == 1 {
		s += "F"
	}
	b := make([]byte, len(s)/2)
	for i := range b {
		lo, ok1 := hexNibble(s[2*i])
		hi, ok2 := hexNibble(s[2*i+1])
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("modem: ICCID has a non-hex digit")
		}
		b[i] = hi<<4 | lo
	}
	return b, nil
}

func hexNibble(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// profileIDTLV encodes the CHOICE { isdpAid [APPLICATION 15], iccid } wrapped
// in A0, as lpac does.
func profileIDTLV(ref ProfileRef) ([]byte, error) {
	switch {
	case ref.ICCID != "":
		b, err := EncodeICCIDTBCD(ref.ICCID)
		if err != nil {
			return nil, err
		}
		return EncodeConstructed(0xA0, EncodeTLV(tagICCID, b)), nil
	case len(ref.AID) > 0:
		return EncodeConstructed(0xA0, EncodeTLV(tagAID, ref.AID)), nil
	}
	return nil, errors.New("modem: profile reference has neither ICCID nor AID")
}

// EncodeEnableProfile builds the EnableProfileRequest (BF31).
func EncodeEnableProfile(ref ProfileRef, refresh bool) ([]byte, error) {
	return encodeProfileOp(tagEnableProfile, ref, refresh)
}

// EncodeDisableProfile builds the DisableProfileRequest (BF32).
func EncodeDisableProfile(ref ProfileRef, refresh bool) ([]byte, error) {
	return encodeProfileOp(tagDisableProfile, ref, refresh)
}

func encodeProfileOp(tag uint32, ref ProfileRef, refresh bool) ([]byte, error) {
	id, err := profileIDTLV(ref)
	if err != nil {
		return nil, err
	}
	flag := byte(0x00)
	if refresh {
		flag = 0xFF
	}
	return EncodeConstructed(tag, id, EncodeTLV(0x81, []byte{flag})), nil
}

// StoreDataAPDUs cuts an ES10 request into STORE DATA commands: P1 11 for
// more blocks, 91 for the last, P2 the block number.
func StoreDataAPDUs(req []byte) []APDU {
	var out []APDU
	for block := 0; ; block++ {
		n := min(len(req), storeDataSegment)
		a := APDU{CLA: 0x80, INS: 0xE2, P1: 0x11, P2: byte(block), Data: req[:n]}
		req = req[n:]
		if len(req) == 0 {
			a.P1 = 0x91
			return append(out, a)
		}
		out = append(out, a)
	}
}

// EUICC is an open session to the ISD-R.
type EUICC struct {
	ch *Channel
}

// OpenISDR opens a logical channel to the ISD-R.
func (m *Modem) OpenISDR(ctx context.Context) (*EUICC, error) {
	ch, err := m.OpenChannel(ctx, ISDRAID)
	if err != nil {
		return nil, fmt.Errorf("modem: open ISD-R: %w", err)
	}
	return &EUICC{ch: ch}, nil
}

// Close closes the channel.
func (e *EUICC) Close(ctx context.Context) error { return e.ch.Close(ctx) }

// es10 sends one ES10 request and returns the top-level response object,
// which must carry the request's tag.
func (e *EUICC) es10(ctx context.Context, op string, req []byte) (TLV, error) {
	var r Response
	for _, a := range StoreDataAPDUs(req) {
		var err error
		if r, err = e.ch.Transmit(ctx, a); err != nil {
			return TLV{}, fmt.Errorf("modem: %s: %w", op, err)
		}
		// SGP.22 and lpac: any 9x status is success.
		if r.SW.SW1()&0xF0 != 0x90 {
			return TLV{}, &SWError{Op: op, SW: r.SW}
		}
	}
	t, _, err := ParseTLV(r.Data)
	if err != nil {
		return TLV{}, fmt.Errorf("modem: %s response: %w", op, err)
	}
	want, _, _ := ParseTLV(req)
	if t.Tag != want.Tag {
		return TLV{}, fmt.Errorf("modem: %s response: tag %X, want %X", op, t.Tag, want.Tag)
	}
	return t, nil
}

// GetEID returns the eUICC identifier (32 hex digits).
func (e *EUICC) GetEID(ctx context.Context) (string, error) {
	req := EncodeTLV(tagGetEuiccData, EncodeTLV(0x5C, []byte{0x5A}))
	t, err := e.es10(ctx, "GetEID", req)
	if err != nil {
		return "", err
	}
	kids, err := t.Children()
	if err != nil {
		return "", fmt.Errorf("modem: GetEID response: %w", err)
	}
	eid, ok := findTLV(kids, 0x5A)
	if !ok || len(eid.Value) != 16 {
		return "", fmt.Errorf("modem: GetEID response: no 16-byte EID")
	}
	return strings.ToUpper(hex.EncodeToString(eid.Value)), nil
}

// GetProfilesInfo lists the profiles on the eUICC.
func (e *EUICC) GetProfilesInfo(ctx context.Context) ([]ProfileInfo, error) {
	t, err := e.es10(ctx, "GetProfilesInfo", EncodeTLV(tagProfileInfoList, nil))
	if err != nil {
		return nil, err
	}
	return DecodeProfileInfoList(t)
}

// DecodeProfileInfoList decodes a ProfileInfoListResponse (BF2D).
func DecodeProfileInfoList(t TLV) ([]ProfileInfo, error) {
	kids, err := t.Children()
	if err != nil {
		return nil, fmt.Errorf("modem: ProfileInfoList: %w", err)
	}
	if len(kids) == 1 && kids[0].Tag == 0x81 && len(kids[0].Value) == 1 {
		return nil, &ES10Error{Op: "GetProfilesInfo", Code: int(kids[0].Value[0])}
	}
	list, ok := findTLV(kids, 0xA0)
	if !ok {
		return nil, nil // an empty eUICC may omit the list
	}
	entries, err := list.Children()
	if err != nil {
		return nil, fmt.Errorf("modem: ProfileInfoList: %w", err)
	}
	var out []ProfileInfo
	for _, en := range entries {
		if en.Tag != tagProfileInfo {
			continue
		}
		fs, err := en.Children()
		if err != nil {
			return nil, fmt.Errorf("modem: ProfileInfo: %w", err)
		}
		var p ProfileInfo
		for _, f := range fs {
			switch f.Tag {
			case tagICCID:
				c, err := DecodeEFICCID(f.Value)
				if err != nil {
					return nil, fmt.Errorf("modem: ProfileInfo: %w", err)
				}
				p.ICCID = c
			case tagAID:
				p.AID = append([]byte(nil), f.Value...)
			case tagProfileState:
				p.State = ProfileState(beInt(f.Value))
			case tagNickname:
				p.Nickname = string(f.Value)
			case tagProvider:
				p.Provider = string(f.Value)
			case tagProfileName:
				p.Name = string(f.Value)
			case tagProfileClass:
				c := beInt(f.Value)
				p.Class = &c
			}
		}
		out = append(out, p)
	}
	return out, nil
}

func beInt(b []byte) int {
	n := 0
	for _, x := range b[:min(len(b), 4)] {
		n = n<<8 | int(x)
	}
	return n
}

// EnableProfile enables a profile. With refresh the eUICC resets itself
// (REFRESH) and the modem re-reads the SIM; without it the caller has to
// reset the UICC (e.g. a CFUN cycle).
func (e *EUICC) EnableProfile(ctx context.Context, ref ProfileRef, refresh bool) error {
	req, err := EncodeEnableProfile(ref, refresh)
	if err != nil {
		return err
	}
	return e.profileOp(ctx, "EnableProfile", req)
}

// DisableProfile disables a profile.
func (e *EUICC) DisableProfile(ctx context.Context, ref ProfileRef, refresh bool) error {
	req, err := EncodeDisableProfile(ref, refresh)
	if err != nil {
		return err
	}
	return e.profileOp(ctx, "DisableProfile", req)
}

func (e *EUICC) profileOp(ctx context.Context, op string, req []byte) error {
	t, err := e.es10(ctx, op, req)
	if err != nil {
		return err
	}
	kids, err := t.Children()
	if err != nil {
		return fmt.Errorf("modem: %s response: %w", op, err)
	}
	res, ok := findTLV(kids, 0x80)
	if !ok || len(res.Value) == 0 {
		return fmt.Errorf("modem: %s response: no result", op)
	}
	if code := beInt(res.Value); code != 0 {
		return &ES10Error{Op: op, Code: code}
	}
	return nil
}

// withISDR runs f on a fresh ISD-R session and closes it.
func (m *Modem) withISDR(ctx context.Context, f func(*EUICC) error) error {
	e, err := m.OpenISDR(ctx)
	if err != nil {
		return err
	}
	ferr := f(e)
	// After an enable with refresh the card has reset and the channel is
	// gone, so a failed close is expected and harmless.
	if cerr := e.Close(context.WithoutCancel(ctx)); cerr != nil {
		m.cfg.logger.Debug("modem: closing the ISD-R channel failed", "err", cerr)
	}
	return ferr
}

// GetEID opens the ISD-R, reads the EID and closes it.
func (m *Modem) GetEID(ctx context.Context) (eid string, err error) {
	err = m.withISDR(ctx, func(e *EUICC) error { eid, err = e.GetEID(ctx); return err })
	return eid, err
}

// GetProfilesInfo opens the ISD-R, lists the profiles and closes it.
func (m *Modem) GetProfilesInfo(ctx context.Context) (ps []ProfileInfo, err error) {
	err = m.withISDR(ctx, func(e *EUICC) error { ps, err = e.GetProfilesInfo(ctx); return err })
	return ps, err
}

// EnableProfile opens the ISD-R, enables the profile and closes it. It does
// not wait for the refresh: see SwitchEUICCProfile.
func (m *Modem) EnableProfile(ctx context.Context, ref ProfileRef, refresh bool) error {
	return m.withISDR(ctx, func(e *EUICC) error { return e.EnableProfile(ctx, ref, refresh) })
}

// DisableProfile opens the ISD-R, disables the profile and closes it.
func (m *Modem) DisableProfile(ctx context.Context, ref ProfileRef, refresh bool) error {
	return m.withISDR(ctx, func(e *EUICC) error { return e.DisableProfile(ctx, ref, refresh) })
}
