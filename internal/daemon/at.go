package daemon

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/imsid/imsid/internal/api"
	"github.com/imsid/imsid/internal/modemreport"
	"github.com/imsid/imsid/internal/modemreport/gather"
	"github.com/imsid/imsid/modem"
)

// AT passes one operator command to the modem through the session's
// command queue (between the switcher's own commands, never beside them),
// as gsmctl -A does on routers. The API has already authenticated and
// audited the caller; the daemon logs the command and its result too.
func (b *backend) AT(ctx context.Context, command string) (api.ATReply, error) {
	if err := b.up(); err != nil {
		return api.ATReply{}, err
	}
	a := b.d.cur.Load()
	if a == nil {
		return api.ATReply{}, fmt.Errorf("%w: no modem session (imsictl status says why)", api.ErrUnavailable)
	}
	lines, err := a.Driver().Raw(ctx, command)
	rep := api.ATReply{Command: command, OK: err == nil, Lines: []string{}}
	for _, l := range lines {
		rep.Lines = append(rep.Lines, maskIdentities(l))
	}
	if err != nil {
		if errors.Is(err, modem.ErrPortLost) || errors.Is(err, modem.ErrClosed) {
			return api.ATReply{}, fmt.Errorf("%w: the modem port was lost", api.ErrUnavailable)
		}
		rep.Error = api.Ptr(maskIdentities(err.Error()))
	}
	b.d.log.Warn("operator AT command", "command", command, "ok", rep.OK, "lines", len(rep.Lines))
	return rep, nil
}

// Probe gathers what imsictl probe shows through the session's command
// queue, between the switcher's own commands: the operator sees what the
// modem sees without a second AT session on the port. IMSI and ICCID are
// masked; the switcher's view and decisions are not touched.
func (b *backend) Probe(ctx context.Context) (modemreport.Report, error) {
	if err := b.up(); err != nil {
		return modemreport.Report{}, err
	}
	a := b.d.cur.Load()
	if a == nil {
		return modemreport.Report{}, fmt.Errorf("%w: no modem session (imsictl status says why)", api.ErrUnavailable)
	}
	m := a.Driver()
	rep := gather.Gather(ctx, m, b.d.cfg.Load().Modem.Device)
	select {
	case <-m.Done():
		return modemreport.Report{}, fmt.Errorf("%w: the modem port was lost during the probe", api.ErrUnavailable)
	default:
	}
	gather.Mask(rep)
	b.d.log.Info("operator probe", "unanswered", strings.Join(rep.Unanswered, ","))
	return *rep, nil
}

var digitRun = regexp.MustCompile(`\d{14,20}`)

// maskIdentities masks what could be an IMSI (15 digits) or an ICCID (18
// to 20) in a modem's answer: they never leave the device in clear.
func maskIdentities(s string) string {
	return digitRun.ReplaceAllStringFunc(s, func(d string) string {
		switch {
		case len(d) == 15:
			return modem.IMSI(d).String()
		case len(d) >= 18:
			return modem.ICCID(d).String()
		}
		return d[:4] + strings.Repeat("*", len(d)-6) + d[len(d)-2:]
	})
}
