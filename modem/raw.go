package modem

import (
	"context"
	"fmt"
	"strings"
)

// MaxRawCommand bounds a pass-through command's length.
const MaxRawCommand = 256

// Raw sends one AT command as given ("AT+CSQ", "+CSQ" or "ATI") through
// the session's command queue, between the commands of whoever else uses
// the modem, and returns the information lines of its answer (an error
// result is the error). It is the operator's pass-through (gsmctl -A on
// routers): the command may change anything the modem lets it, so callers
// must authenticate and audit it.
func (m *Modem) Raw(ctx context.Context, command string) ([]string, error) {
	c := strings.TrimSpace(command)
	if len(c) >= 2 && strings.EqualFold(c[:2], "AT") {
		c = c[2:]
	}
	if len(command) > MaxRawCommand {
		return nil, &OpError{Cmd: "AT" + c, Err: fmt.Errorf("%w: longer than %d characters", ErrIncorrectParameters, MaxRawCommand)}
	}
	for _, r := range c {
		if r < 0x20 || r > 0x7e {
			return nil, &OpError{Cmd: "AT" + c, Err: fmt.Errorf("%w: only printable ASCII, one command", ErrIncorrectParameters)}
		}
	}
	spec := cmdSpec{cmd: c, bare: true}
	// The command's own information lines: "+CSQ=?" and "+COPS?" answer
	// "+CSQ:" and "+COPS:" lines.
	if name := strings.TrimRight(strings.SplitN(strings.SplitN(c, "=", 2)[0], "?", 2)[0], " "); len(name) > 1 && strings.ContainsAny(name[:1], "+^$#!") {
		spec.prefix = []string{name + ":"}
	}
	return m.exec(ctx, spec)
}
