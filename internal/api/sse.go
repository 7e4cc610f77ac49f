package api

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// sseWriteTimeout bounds each write to an SSE client: a client that stops
// reading is dropped instead of holding a handler forever.
const sseWriteTimeout = 10 * time.Second

// handleEvents streams events as Server-Sent Events. Each event carries its
// ID, so a client resumes with Last-Event-ID (or ?after=); comments keep
// proxies and NAT from timing the stream out. The stream ends when the
// client leaves, the server shuts down or the backend drops the subscriber
// (it fell behind): the client reconnects with its last ID and the backend
// replays what it still holds.
func (s *Server) handleEvents(w http.ResponseWriter, r *http.Request) {
	after, err := resumePoint(r)
	if err != nil {
		s.requestError(w, err)
		return
	}
	if r.Method == http.MethodHead {
		// A HEAD must not subscribe and hold the connection open.
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		return
	}
	counter, limit, where := &s.localStreams, s.cfg.MaxStreams, "unix socket"
	if remoteRequest(r) {
		counter, limit, where = &s.remoteStreams, s.cfg.MaxTCPStreams, "TCP listener"
	}
	if n := counter.Add(1); n > int64(limit) {
		counter.Add(-1)
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusServiceUnavailable, ErrorInfo{Code: CodeTooManyStreams,
			Message: fmt.Sprintf("already %d event streams open on the %s; the limit is %d (close another 'imsictl events' or try later)", n-1, where, limit)})
		return
	}
	defer counter.Add(-1)
	rc := http.NewResponseController(w)
	ctx := r.Context()
	events, cancel, err := s.backend.Subscribe(ctx, after)
	if err != nil {
		s.backendError(w, r, "events", err)
		return
	}
	defer cancel()
	// The server's read/write timeouts are for ordinary requests; a stream
	// lives on, bounded per write instead.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	s.metrics.sseClients.add(1)
	defer s.metrics.sseClients.add(-1)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)

	var buf bytes.Buffer
	send := func() bool {
		_ = rc.SetWriteDeadline(time.Now().Add(sseWriteTimeout))
		_, err := w.Write(buf.Bytes())
		buf.Reset()
		if err == nil {
			err = rc.Flush()
		}
		return err == nil
	}
	buf.WriteString("retry: 2000\n: connected\n\n")
	if !send() {
		return
	}
	tick := time.NewTicker(s.cfg.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.stopping:
			return
		case <-tick.C:
			buf.WriteString(": heartbeat\n\n")
			if !send() {
				return
			}
		case ev, ok := <-events:
			if !ok {
				return
			}
			formatEvent(&buf, ev)
			if !send() {
				return
			}
		}
	}
}

// formatEvent writes one SSE frame. The data is compact JSON (no newlines);
// a type with a newline would break the framing, so it is cut there.
func formatEvent(buf *bytes.Buffer, ev Event) {
	if ev.ID != 0 {
		buf.WriteString("id: ")
		buf.WriteString(strconv.FormatUint(ev.ID, 10))
		buf.WriteByte('\n')
	}
	typ, _, _ := strings.Cut(ev.Type, "\n")
	typ, _, _ = strings.Cut(typ, "\r")
	if typ != "" {
		buf.WriteString("event: ")
		buf.WriteString(typ)
		buf.WriteByte('\n')
	}
	env, _ := jsonMarshalCompact(ev)
	buf.WriteString("data: ")
	buf.Write(env)
	buf.WriteString("\n\n")
}

// resumePoint reads Last-Event-ID (the browser/EventSource way) or ?after=
// (the curl way).
func resumePoint(r *http.Request) (uint64, error) {
	for k := range r.URL.Query() {
		if k != "after" {
			return 0, badRequest(CodeUnknownField, k, "unknown query parameter %q (accepted: after)", k)
		}
	}
	field, v := "Last-Event-ID", r.Header.Get("Last-Event-ID")
	if a := r.URL.Query().Get("after"); a != "" {
		field, v = "after", a
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, badRequest(CodeInvalidField, field, "%s: %q is not an event ID", field, v)
	}
	return n, nil
}
