package apiclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/imsid/imsid/internal/api/wire"
)

// maxSSELine bounds one line of the event stream; the daemon's events are a
// few KiB.
const maxSSELine = 1 << 20

// frame is one Server-Sent Events message before its data is decoded.
type frame struct {
	ID    string // "" when the frame has no id field
	Event string
	Data  []byte
	Line  int // line number of the frame's first field, for errors
}

// sseReader splits an event stream into frames (WHATWG HTML, "Server-sent
// events", parsing an event stream). It is the one place the stream's text
// is parsed.
type sseReader struct {
	sc    *bufio.Scanner
	line  int
	retry time.Duration // the latest "retry:" hint, 0 if none
}

func newSSEReader(r io.Reader) *sseReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxSSELine)
	sc.Split(scanSSELines)
	return &sseReader{sc: sc}
}

// scanSSELines splits on CRLF, LF or a lone CR, as the format allows.
func scanSSELines(data []byte, atEOF bool) (int, []byte, error) {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
		if data[i] == '\r' {
			if i+1 < len(data) {
				if data[i+1] == '\n' {
					return i + 2, data[:i], nil
				}
				return i + 1, data[:i], nil
			}
			if !atEOF {
				return 0, nil, nil // a CRLF may be split across reads
			}
		}
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}

// next returns the next frame that carries data; comments and frames
// without data are skipped. io.EOF at the end of the stream (a frame cut
// off by the end is discarded, as the format says).
func (r *sseReader) next() (frame, error) {
	var f frame
	var data bytes.Buffer
	hasData := false
	for r.sc.Scan() {
		r.line++
		line := r.sc.Bytes()
		if len(line) == 0 {
			if hasData {
				f.Data = bytes.Clone(data.Bytes())
				return f, nil
			}
			f = frame{}
			continue
		}
		if line[0] == ':' {
			continue
		}
		if f.Line == 0 {
			f.Line = r.line
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(name) {
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.Write(value)
			hasData = true
		case "event":
			f.Event = string(value)
		case "id":
			if bytes.IndexByte(value, 0) < 0 {
				f.ID = string(value)
			}
		case "retry":
			if ms, err := strconv.ParseUint(string(value), 10, 31); err == nil {
				r.retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if err := r.sc.Err(); err != nil {
		return frame{}, fmt.Errorf("event stream line %d: %w", r.line+1, err)
	}
	return frame{}, io.EOF
}

// FrameError is a frame of the event stream whose data is not an event.
// The stream stays usable after it.
type FrameError struct {
	Line int
	ID   string
	Err  error
}

func (e *FrameError) Error() string {
	return fmt.Sprintf("event stream line %d (id %q): %v", e.Line, e.ID, e.Err)
}

func (e *FrameError) Unwrap() error { return e.Err }

// decodeFrame turns a frame into the wire.Event it carries. The frame's own
// id and event fields win over a missing ID or type in the data, so an
// event is always resumable by what the stream said.
func decodeFrame(f frame) (wire.Event, error) {
	var ev wire.Event
	if err := json.Unmarshal(f.Data, &ev); err != nil {
		return wire.Event{}, &FrameError{Line: f.Line, ID: f.ID, Err: err}
	}
	if ev.ID == 0 && f.ID != "" {
		n, err := strconv.ParseUint(f.ID, 10, 64)
		if err != nil {
			return wire.Event{}, &FrameError{Line: f.Line, ID: f.ID, Err: fmt.Errorf("id is not a number")}
		}
		ev.ID = n
	}
	if ev.Type == "" {
		ev.Type = f.Event
	}
	return ev, nil
}

// Stream is one open GET /v1/events response.
type Stream struct {
	body   io.ReadCloser
	r      *sseReader
	cancel context.CancelFunc
	last   uint64
}

// Events opens the event stream from after (0: only new events). The
// client's timeout applies until the response headers arrive; the stream
// then lives until ctx ends, Close, or the daemon ends it.
func (c *Client) Events(ctx context.Context, after uint64) (*Stream, error) {
	ctx, cancel := context.WithCancel(ctx)
	req, err := c.newRequest(ctx, http.MethodGet, "/v1/events", nil, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if after > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatUint(after, 10))
	}
	var timedOut atomic.Bool
	t := time.AfterFunc(c.timeout, func() { timedOut.Store(true); cancel() })
	resp, err := c.hc.Do(req)
	t.Stop()
	if err != nil {
		cancel()
		if timedOut.Load() {
			err = context.DeadlineExceeded
		}
		return nil, c.transportError(ctx, err)
	}
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		cancel()
		return nil, responseError("events", resp.StatusCode, data)
	}
	return &Stream{body: resp.Body, r: newSSEReader(resp.Body), cancel: cancel, last: after}, nil
}

// Next returns the next event. io.EOF: the daemon ended the stream. A
// *FrameError names a bad frame; Next may be called again after it.
func (s *Stream) Next() (wire.Event, error) {
	f, err := s.r.next()
	if err != nil {
		return wire.Event{}, err
	}
	ev, err := decodeFrame(f)
	if err != nil {
		return wire.Event{}, err
	}
	if ev.ID != 0 {
		s.last = ev.ID
	}
	return ev, nil
}

// LastID is the ID of the newest event received (or the resume point).
func (s *Stream) LastID() uint64 { return s.last }

// Retry is the reconnect delay the daemon asked for, 0 if it did not.
func (s *Stream) Retry() time.Duration { return s.r.retry }

// Close ends the stream. It is idempotent.
func (s *Stream) Close() error {
	s.cancel()
	return s.body.Close()
}

// FollowOptions tune Follow.
type FollowOptions struct {
	// After is the resume point (0: only new events).
	After uint64
	// OnDrop is told each time the stream ends or cannot be opened and
	// Follow is about to wait delay and reconnect from after.
	OnDrop func(err error, after uint64, delay time.Duration)
	// OnBadFrame is told about frames that are not events; they are skipped.
	OnBadFrame func(err *FrameError)
	// MaxDelay caps the reconnect backoff (default 30 s).
	MaxDelay time.Duration
	// FailFast returns the error of the first connection attempt instead
	// of retrying: a person who asks for a stream wants to hear at once
	// that the daemon is not there. Later drops are still retried.
	FailFast bool
}

// Follow streams events into fn until ctx ends (it then returns ctx.Err())
// or fn returns an error. When the stream drops, or the daemon is
// unreachable or unavailable for a while (a restart), it reconnects with
// Last-Event-ID so nothing the daemon still holds is missed: first after
// the daemon's retry hint, then backing off. An error the daemon will
// repeat (401, a bad request) is returned at once.
func (c *Client) Follow(ctx context.Context, o FollowOptions, fn func(wire.Event) error) error {
	maxDelay := o.MaxDelay
	if maxDelay <= 0 {
		maxDelay = 30 * time.Second
	}
	after := o.After
	hint := 2 * time.Second
	delay := time.Duration(0)
	connected := false
	for {
		s, err := c.Events(ctx, after)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if !retryable(err) || (o.FailFast && !connected) {
				return err
			}
			delay = min(max(delay*2, hint), maxDelay)
		} else {
			connected = true
			got := false
			err = pump(s, o, fn, &got)
			after = s.LastID()
			if r := s.Retry(); r > 0 {
				hint = r
			}
			s.Close()
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var fe *fnError
			if errors.As(err, &fe) {
				return fe.err
			}
			if got {
				delay = 0 // a stream that worked: reconnect promptly
			}
			delay = min(max(delay*2, hint), maxDelay)
		}
		if o.OnDrop != nil {
			o.OnDrop(err, after, delay)
		}
		if err := c.wait(ctx, delay); err != nil {
			return err
		}
	}
}

type fnError struct{ err error }

func (e *fnError) Error() string { return e.err.Error() }

func pump(s *Stream, o FollowOptions, fn func(wire.Event) error, got *bool) error {
	for {
		ev, err := s.Next()
		var fe *FrameError
		switch {
		case errors.As(err, &fe):
			if o.OnBadFrame != nil {
				o.OnBadFrame(fe)
			}
			continue
		case err != nil:
			return err
		}
		*got = true
		if err := fn(ev); err != nil {
			return &fnError{err}
		}
	}
}

// retryable: the daemon may come back (restart, starting up).
func retryable(err error) bool {
	if errors.Is(err, ErrUnreachable) {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status == http.StatusServiceUnavailable || ae.Status >= 500
	}
	return true
}
