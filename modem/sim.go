package modem

import (
	"context"
	"errors"
	"fmt"
)

// Elementary files read through +CRSM (27.007 §8.18), by decimal file id.
const (
	efIMSI  = 0x6F07 // 28423, under ADF USIM / DF GSM
	efICCID = 0x2FE2 // 12258, under MF
)

// pathIDs are tried in order for files under the USIM ADF: none (the modem
// picks), the ADF alias, then the GSM DF older modems want.
var usimPaths = []string{"", "3F007FFF", "3F007F20"}

// ReadBinary reads n bytes of a transparent EF with +CRSM READ BINARY.
// path is the <pathid> ("" lets the modem choose).
func (m *Modem) ReadBinary(ctx context.Context, fileID uint16, n int, path string) (Response, error) {
	if n < 1 || n > 256 {
		return Response{}, fmt.Errorf("modem: READ BINARY of %d bytes", n)
	}
	cmd := fmt.Sprintf("+CRSM=176,%d,0,0,%d", fileID, n%256)
	if path != "" {
		cmd += `,,"` + path + `"`
	}
	lines, err := m.exec(ctx, cmdSpec{cmd: cmd, prefix: []string{"+CRSM:"}, need: true})
	if err != nil {
		return Response{}, err
	}
	r, err := ParseCRSM(lines)
	if err != nil {
		return Response{}, &OpError{Cmd: "AT" + cmd, Err: err}
	}
	return r, nil
}

// EFIMSI reads the IMSI from the card itself (EF_IMSI). Unlike +CIMI, which
// some modems answer from a cache, this shows what a multi-IMSI applet
// really wrote.
func (m *Modem) EFIMSI(ctx context.Context) (IMSI, error) {
	var last error
	for _, p := range usimPaths {
		r, err := m.ReadBinary(ctx, efIMSI, 9, p)
		if err != nil {
			// ERROR for a path the modem does not understand: try the next.
			if errors.Is(err, ErrError) || errors.Is(err, ErrIncorrectParameters) || errors.Is(err, ErrNotFound) {
				last = err
				continue
			}
			return "", err
		}
		if !r.SW.OK() {
			last = &SWError{Op: "READ BINARY EF_IMSI", SW: r.SW}
			continue
		}
		return DecodeEFIMSI(r.Data)
	}
	return "", last
}

// EFICCID reads the ICCID from EF_ICCID, a fallback that works on every
// modem whatever its vendor ICCID command is.
func (m *Modem) EFICCID(ctx context.Context) (ICCID, error) {
	r, err := m.ReadBinary(ctx, efICCID, 10, "")
	if err != nil {
		return "", err
	}
	if !r.SW.OK() {
		return "", &SWError{Op: "READ BINARY EF_ICCID", SW: r.SW}
	}
	return DecodeEFICCID(r.Data)
}
