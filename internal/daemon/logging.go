package daemon

import (
	"io"
	"log/slog"

	"github.com/imsid/imsid/profiles"
)

// NewLogger builds the slog logger the config asks for. IMSI and ICCID values
// mask themselves (modem.IMSI/ICCID implement slog.LogValuer), and the daemon
// never logs them as plain strings; a test greps a whole run's logs for them.
func NewLogger(w io.Writer, c profiles.Log) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.Level}
	if c.Format == profiles.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
