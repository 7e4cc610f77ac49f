package modem

import (
	"fmt"
	"io"
	"sync"

	"github.com/warthog618/modem/trace"
)

// newTrace wraps the port in warthog618's trace decorator. The wire is
// copied unmasked (IMSI, ICCID, APDUs), which is why it is opt-in and goes
// to a debug writer of the caller's choosing, never to the service log.
func newTrace(rw io.ReadWriter, w io.Writer) io.ReadWriter {
	return trace.New(rw, trace.WithLogger(&traceLogger{w: w}),
		trace.WithReadFormat("< %q"), trace.WithWriteFormat("> %q"))
}

// traceLogger serialises lines from the reader and writer goroutines.
type traceLogger struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *traceLogger) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", v...)
}
