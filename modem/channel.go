package modem

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Channel is a logical channel to one application on the UICC, opened with
// +CCHO (or, on modems without it, MANAGE CHANNEL and SELECT over +CSIM).
// It is not safe for concurrent use; the modem serialises commands anyway.
type Channel struct {
	m      *Modem
	id     string // +CCHO session id, opaque (Sierra returns a 64-bit handle)
	csim   bool   // opened over +CSIM: CLA carries the channel number
	number byte   // the channel number in CSIM mode
	aid    []byte
	closed bool
}

// simAccess remembers what the modem supports so that the fallback is
// decided once per session.
type simAccess struct {
	mu      sync.Mutex
	useCSIM bool
	noCCHC  bool
}

var errCCHOUnsupported = errors.New("modem: +CCHO not usable")

// OpenChannel opens a logical channel to the application aid.
func (m *Modem) OpenChannel(ctx context.Context, aid []byte) (*Channel, error) {
	if len(aid) < 5 || len(aid) > 16 {
		return nil, fmt.Errorf("modem: open channel: AID of %d bytes (want 5..16)", len(aid))
	}
	m.sim.mu.Lock()
	useCSIM := m.sim.useCSIM
	m.sim.mu.Unlock()
	if !useCSIM {
		ch, err := m.openCCHO(ctx, aid)
		if !errors.Is(err, errCCHOUnsupported) {
			return ch, err
		}
		m.cfg.logger.Debug("modem: +CCHO unusable, falling back to +CSIM", "err", err)
		m.sim.mu.Lock()
		m.sim.useCSIM = true
		m.sim.mu.Unlock()
	}
	return m.openCSIM(ctx, aid)
}

func (m *Modem) openCCHO(ctx context.Context, aid []byte) (*Channel, error) {
	lines, err := m.exec(ctx, cmdSpec{
		cmd:    fmt.Sprintf(`+CCHO="%s"`, strings.ToUpper(hex.EncodeToString(aid))),
		prefix: []string{"+CCHO:"},
		bare:   true,
	})
	if err != nil {
		// ERROR, "not supported" or "not allowed": the modem lacks the
		// command or blocks it; CSIM may still work (Dell DW5821e). Sierra's
		// EM9191 answered "Parameters error" to a well-formed CCHO (lpac
		// #187), so that counts too.
		if errors.Is(err, ErrError) || errors.Is(err, ErrNotSupported) || errors.Is(err, ErrNotAllowed) ||
			errors.Is(err, ErrIncorrectParameters) {
			return nil, fmt.Errorf("%w: %w", errCCHOUnsupported, err)
		}
		return nil, err
	}
	id, err := ParseCCHO(lines)
	if err != nil {
		return nil, err
	}
	return &Channel{m: m, id: id, aid: aid}, nil
}

func (m *Modem) openCSIM(ctx context.Context, aid []byte) (*Channel, error) {
	// MANAGE CHANNEL open, the card picks the number.
	r, err := m.csim(ctx, APDU{CLA: 0x00, INS: 0x70, P1: 0x00, P2: 0x00, Le: 1})
	if err != nil {
		return nil, fmt.Errorf("modem: MANAGE CHANNEL over +CSIM: %w", err)
	}
	if !r.SW.OK() || len(r.Data) != 1 || r.Data[0] == 0 || r.Data[0] > 19 {
		return nil, &SWError{Op: "MANAGE CHANNEL", SW: r.SW}
	}
	ch := &Channel{m: m, csim: true, number: r.Data[0], aid: aid}
	sel, err := ch.Transmit(ctx, APDU{CLA: 0x00, INS: 0xA4, P1: 0x04, P2: 0x00, Data: aid})
	if err != nil || !sel.SW.OK() {
		ch.Close(context.WithoutCancel(ctx))
		if err != nil {
			return nil, fmt.Errorf("modem: SELECT over +CSIM: %w", err)
		}
		return nil, &SWError{Op: "SELECT " + strings.ToUpper(hex.EncodeToString(aid)), SW: sel.SW}
	}
	return ch, nil
}

// ID is the session id (+CCHO) or the channel number (CSIM), for logs.
func (c *Channel) ID() string {
	if c.csim {
		return fmt.Sprintf("csim:%d", c.number)
	}
	return c.id
}

// claFor puts the channel number into a CLA byte (ISO 7816-4 §5.4.1). Only
// used over +CSIM: with +CGLA the modem owns those bits (27.007 §8.43).
func claFor(cla, ch byte) byte {
	if ch < 4 {
		return cla&^0x43 | ch
	}
	return cla&^0x4F | 0x40 | (ch-4)&0x0F
}

// Transmit sends one APDU and returns the complete response: 61xx is
// followed by GET RESPONSE (same CLA, as lpac and ISO practice do) and 6Cxx
// by a resend with the right Le, so callers only ever see final status words.
func (c *Channel) Transmit(ctx context.Context, a APDU) (Response, error) {
	if c.closed {
		return Response{}, fmt.Errorf("modem: channel %s: %w", c.ID(), ErrClosed)
	}
	r, err := c.raw(ctx, a)
	if err != nil {
		return r, err
	}
	if n, ok := r.SW.WrongLength(); ok {
		a.Le = n
		if r, err = c.raw(ctx, a); err != nil {
			return r, err
		}
	}
	data := r.Data
	for i := 0; ; i++ {
		n, ok := r.SW.MoreData()
		if !ok {
			break
		}
		if i == 64 {
			return Response{}, fmt.Errorf("modem: channel %s: card keeps answering 61xx", c.ID())
		}
		if r, err = c.raw(ctx, APDU{CLA: a.CLA, INS: 0xC0, Le: n}); err != nil {
			return r, err
		}
		data = append(data, r.Data...)
	}
	return Response{Data: data, SW: r.SW}, nil
}

func (c *Channel) raw(ctx context.Context, a APDU) (Response, error) {
	if c.csim {
		a.CLA = claFor(a.CLA, c.number)
		return c.m.csim(ctx, a)
	}
	h := a.Hex()
	lines, err := c.m.exec(ctx, cmdSpec{
		cmd:    fmt.Sprintf(`+CGLA=%s,%d,"%s"`, c.id, len(h), h),
		prefix: []string{"+CGLA:"},
	})
	if err != nil {
		return Response{}, err
	}
	return ParseCGLA(lines)
}

// csim sends one APDU on the basic channel (or the channel its CLA names).
func (m *Modem) csim(ctx context.Context, a APDU) (Response, error) {
	h := a.Hex()
	lines, err := m.exec(ctx, cmdSpec{
		cmd:    fmt.Sprintf(`+CSIM=%d,"%s"`, len(h), h),
		prefix: []string{"+CSIM:"},
	})
	if err != nil {
		return Response{}, err
	}
	return ParseCSIM(lines)
}

// Close closes the channel. A modem without +CCHC (Sierra EM9191) leaves
// the channel to be closed by the next SIM reset; that is not an error.
func (c *Channel) Close(ctx context.Context) error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.csim {
		// lpac sends the close with a trailing 00 (Le), which cards accept.
		r, err := c.m.csim(ctx, APDU{CLA: 0x00, INS: 0x70, P1: 0x80, P2: c.number, Le: 256})
		if err != nil {
			return err
		}
		if !r.SW.OK() {
			return &SWError{Op: "MANAGE CHANNEL close", SW: r.SW}
		}
		return nil
	}
	c.m.sim.mu.Lock()
	noCCHC := c.m.sim.noCCHC
	c.m.sim.mu.Unlock()
	if noCCHC {
		return nil
	}
	_, err := c.m.exec(ctx, cmdSpec{cmd: "+CCHC=" + c.id, prefix: []string{"+CCHC"}})
	if errors.Is(err, ErrError) || errors.Is(err, ErrNotSupported) {
		c.m.sim.mu.Lock()
		c.m.sim.noCCHC = true
		c.m.sim.mu.Unlock()
		return nil
	}
	return err
}
