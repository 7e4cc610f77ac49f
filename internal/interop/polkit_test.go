//go:build linux

package interop

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
)

// polkitStandIn is a PolicyKit authority on the test's private system bus
// that authorises everything. ModemManager (Debian builds it with polkit)
// asks org.freedesktop.PolicyKit1.Authority.CheckAuthorization before
// enable, location setup and other "device control" calls; without an
// authority on the bus those fail with "authority not found".
//
// It speaks just enough of the D-Bus wire protocol (little-endian, EXTERNAL
// authentication, method calls in, method returns out) to own one name and
// answer three methods, so the test needs no D-Bus module and no python.
type polkitStandIn struct {
	conn   net.Conn
	mu     sync.Mutex
	serial uint32
	done   chan struct{}

	countMu sync.Mutex
	checks  map[string]int // action id -> CheckAuthorization calls
}

const (
	polkitName = "org.freedesktop.PolicyKit1"
	polkitPath = "/org/freedesktop/PolicyKit1/Authority"
	polkitIf   = "org.freedesktop.PolicyKit1.Authority"
)

// startPolkit connects to the bus at socket, owns PolicyKit1's name and
// serves until Close.
func startPolkit(socket string) (*polkitStandIn, error) {
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return nil, err
	}
	p := &polkitStandIn{conn: conn, done: make(chan struct{}), checks: map[string]int{}}
	r := bufio.NewReader(conn)
	if err := p.auth(r); err != nil {
		conn.Close()
		return nil, fmt.Errorf("dbus auth: %w", err)
	}
	// Hello, then RequestName(name, DO_NOT_QUEUE); the replies (and the
	// NameAcquired signal) arrive in the serve loop, which ignores them:
	// the test waits for the name with `dbus-send`-free polling through
	// ModemManager's own success instead.
	p.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello", "", nil)
	var body enc
	body.str(polkitName)
	body.u32(4)
	p.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName", "su", body.b)
	owned := make(chan error, 1)
	go p.serve(r, owned)
	if err := <-owned; err != nil {
		conn.Close()
		return nil, err
	}
	return p, nil
}

func (p *polkitStandIn) Close() {
	p.conn.Close()
	<-p.done
}

func (p *polkitStandIn) authorised(action string) int {
	p.countMu.Lock()
	defer p.countMu.Unlock()
	return p.checks[action]
}

func (p *polkitStandIn) auth(r *bufio.Reader) error {
	uid := hex.EncodeToString([]byte(strconv.Itoa(os.Getuid())))
	if _, err := io.WriteString(p.conn, "\x00AUTH EXTERNAL "+uid+"\r\n"); err != nil {
		return err
	}
	line, err := r.ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "OK ") {
		return fmt.Errorf("bus refused EXTERNAL: %q", strings.TrimSpace(line))
	}
	_, err = io.WriteString(p.conn, "BEGIN\r\n")
	return err
}

// message is the part of a received message the stand-in looks at.
type message struct {
	typ        byte
	serial     uint32
	replySer   uint32
	path       string
	iface      string
	member     string
	sender     string
	signature  string
	errorName  string
	body       []byte
	noReplyReq bool
}

func (p *polkitStandIn) serve(r *bufio.Reader, owned chan<- error) {
	defer close(p.done)
	requestSerial := uint32(2) // Hello is 1, RequestName 2
	for {
		m, err := readMessage(r)
		if err != nil {
			if owned != nil {
				owned <- fmt.Errorf("dbus: %w before owning %s", err, polkitName)
			}
			return
		}
		switch m.typ {
		case 2: // method return
			if owned != nil && m.replySer == requestSerial {
				// RequestName's reply: 1 primary owner, 4 already owner.
				if len(m.body) >= 4 {
					if v := binary.LittleEndian.Uint32(m.body); v != 1 && v != 4 {
						owned <- fmt.Errorf("RequestName(%s) answered %d", polkitName, v)
						return
					}
				}
				owned <- nil
				owned = nil
			}
		case 3: // error
			if owned != nil && m.replySer == requestSerial {
				owned <- fmt.Errorf("RequestName(%s): %s", polkitName, m.errorName)
				return
			}
		case 1: // method call
			p.answer(m)
		}
	}
}

func (p *polkitStandIn) answer(m message) {
	if m.noReplyReq {
		return
	}
	switch {
	case m.iface == polkitIf && m.member == "CheckAuthorization":
		p.countMu.Lock()
		p.checks[actionID(m)]++
		p.countMu.Unlock()
		// (bba{ss}): is_authorized, is_challenge, details.
		var b enc
		b.align(8)
		b.u32(1)
		b.u32(0)
		b.u32(0) // empty array; its elements (dict entries) align to 8
		b.align(8)
		p.reply(m, "(bba{ss})", b.b)
	case m.iface == "org.freedesktop.DBus.Properties" && m.member == "GetAll":
		var b enc
		b.u32(0)
		b.align(8)
		p.reply(m, "a{sv}", b.b)
	case m.iface == "org.freedesktop.DBus.Properties" && m.member == "Get":
		p.fail(m, "org.freedesktop.DBus.Error.UnknownProperty")
	case m.iface == "org.freedesktop.DBus.Peer" && m.member == "Ping":
		p.reply(m, "", nil)
	default:
		p.fail(m, "org.freedesktop.DBus.Error.UnknownMethod")
	}
}

// actionID digs the action id out of CheckAuthorization's (sa{sv}) s ...
// body; an unreadable body is counted under "?".
func actionID(m message) (id string) {
	defer func() {
		if recover() != nil {
			id = "?"
		}
	}()
	d := dec{b: m.body}
	d.align(8)
	d.str() // subject kind
	n := int(d.u32())
	d.align(8)
	d.off += n // subject details
	return d.str()
}

func (p *polkitStandIn) reply(to message, sig string, body []byte) {
	p.send(2, to, "", sig, body)
}

func (p *polkitStandIn) fail(to message, name string) {
	var b enc
	b.str("not implemented by the test's PolicyKit stand-in")
	p.send(3, to, name, "s", b.b)
}

func (p *polkitStandIn) call(dest, path, iface, member, sig string, body []byte) {
	var h enc
	h.field(1, "o", path)
	h.field(2, "s", iface)
	h.field(3, "s", member)
	h.field(6, "s", dest)
	if sig != "" {
		h.field(8, "g", sig)
	}
	p.write(1, h.b, body)
}

func (p *polkitStandIn) send(typ byte, to message, errName, sig string, body []byte) {
	var h enc
	if errName != "" {
		h.field(4, "s", errName)
	}
	h.fieldU32(5, to.serial)
	if to.sender != "" {
		h.field(6, "s", to.sender)
	}
	if sig != "" {
		h.field(8, "g", sig)
	}
	p.write(typ, h.b, body)
}

func (p *polkitStandIn) write(typ byte, fields, body []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.serial++
	var m enc
	m.b = append(m.b, 'l', typ, 0, 1)
	m.u32(uint32(len(body)))
	m.u32(p.serial)
	m.u32(uint32(len(fields)))
	m.b = append(m.b, fields...)
	m.align(8)
	m.b = append(m.b, body...)
	_, _ = p.conn.Write(m.b)
}

func readMessage(r *bufio.Reader) (message, error) {
	var fixed [16]byte
	if _, err := io.ReadFull(r, fixed[:]); err != nil {
		return message{}, err
	}
	if fixed[0] != 'l' {
		return message{}, errors.New("big-endian message: not supported by the stand-in")
	}
	bodyLen := binary.LittleEndian.Uint32(fixed[4:])
	fieldsLen := binary.LittleEndian.Uint32(fixed[12:])
	if bodyLen > 1<<20 || fieldsLen > 1<<16 {
		return message{}, errors.New("message too large")
	}
	padded := (16 + int(fieldsLen) + 7) &^ 7
	rest := make([]byte, padded-16+int(bodyLen))
	if _, err := io.ReadFull(r, rest); err != nil {
		return message{}, err
	}
	all := append(fixed[:], rest...)
	m := message{
		typ:        fixed[1],
		noReplyReq: fixed[2]&1 != 0,
		serial:     binary.LittleEndian.Uint32(fixed[8:]),
		body:       all[padded:],
	}
	d := dec{b: all[:16+int(fieldsLen)], off: 16}
	for d.off < len(d.b) {
		d.align(8)
		code := d.byte()
		sig := d.sig()
		switch sig {
		case "s", "o":
			v := d.str()
			switch code {
			case 1:
				m.path = v
			case 2:
				m.iface = v
			case 3:
				m.member = v
			case 4:
				m.errorName = v
			case 7:
				m.sender = v
			}
		case "g":
			v := d.sig()
			if code == 8 {
				m.signature = v
			}
		case "u":
			v := d.u32()
			if code == 5 {
				m.replySer = v
			}
		default:
			return message{}, fmt.Errorf("header field %d of type %q", code, sig)
		}
	}
	return m, nil
}

// enc and dec marshal the few D-Bus types the stand-in uses. Offsets are
// from the start of the message (headers) or body, which both start
// 8-aligned, so alignment on the slice length is alignment on the wire.
type enc struct{ b []byte }

func (e *enc) align(n int) {
	for len(e.b)%n != 0 {
		e.b = append(e.b, 0)
	}
}

func (e *enc) u32(v uint32) {
	e.align(4)
	e.b = binary.LittleEndian.AppendUint32(e.b, v)
}

func (e *enc) str(s string) {
	e.u32(uint32(len(s)))
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
}

func (e *enc) sig(s string) {
	e.b = append(e.b, byte(len(s)))
	e.b = append(e.b, s...)
	e.b = append(e.b, 0)
}

// field appends one (yv) header field; the headers start at offset 16 of
// the message, itself 8-aligned, so e's alignment matches the wire's.
func (e *enc) field(code byte, typ, v string) {
	e.align(8)
	e.b = append(e.b, code)
	e.sig(typ)
	if typ == "g" {
		e.sig(v)
	} else {
		e.str(v)
	}
}

func (e *enc) fieldU32(code byte, v uint32) {
	e.align(8)
	e.b = append(e.b, code)
	e.sig("u")
	e.u32(v)
}

type dec struct {
	b   []byte
	off int
}

func (d *dec) align(n int) { d.off = (d.off + n - 1) &^ (n - 1) }

func (d *dec) byte() byte {
	v := d.b[d.off]
	d.off++
	return v
}

func (d *dec) u32() uint32 {
	d.align(4)
	v := binary.LittleEndian.Uint32(d.b[d.off:])
	d.off += 4
	return v
}

func (d *dec) str() string {
	n := int(d.u32())
	v := string(d.b[d.off : d.off+n])
	d.off += n + 1
	return v
}

func (d *dec) sig() string {
	n := int(d.byte())
	v := string(d.b[d.off : d.off+n])
	d.off += n + 1
	return v
}
