package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/imsid/imsid/profiles"
	"io"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode"
)

// requestError is a client mistake with its status and code.
type requestError struct {
	status int
	info   ErrorInfo
}

func (e *requestError) Error() string { return e.info.Message }

func badRequest(code, field, format string, a ...any) *requestError {
	return &requestError{http.StatusBadRequest, ErrorInfo{Code: code, Field: field, Message: fmt.Sprintf(format, a...)}}
}

// readBody reads a JSON object body into fields, checking media type, size
// and that only known fields appear. An empty body is an empty object.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, known ...string) (map[string]json.RawMessage, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, &requestError{http.StatusUnsupportedMediaType, ErrorInfo{Code: CodeUnsupportedMedia,
				Message: fmt.Sprintf("Content-Type %q: send application/json", ct)}}
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, &requestError{http.StatusRequestEntityTooLarge, ErrorInfo{Code: CodeBodyTooLarge,
				Message: fmt.Sprintf("request body over the %d-byte limit", limit)}}
		}
		return nil, badRequest(CodeBadRequest, "", "reading the body: %v", err)
	}
	return parseObject(body, known...)
}

// parseObject decodes body as one JSON object whose keys are all in known.
// Errors name the byte offset or the field.
func parseObject(body []byte, known ...string) (map[string]json.RawMessage, error) {
	fields := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(body)) == 0 {
		return fields, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&fields); err != nil {
		return nil, jsonError(err, "")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest(CodeMalformedJSON, "", "malformed JSON: unexpected data after the object at offset %d", dec.InputOffset())
	}
	var unknown []string
	for k := range fields {
		if !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		e := badRequest(CodeUnknownField, unknown[0], "unknown field %q (accepted: %s)", unknown[0], strings.Join(known, ", "))
		return nil, e
	}
	return fields, nil
}

func jsonError(err error, field string) *requestError {
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return badRequest(CodeMalformedJSON, field, "malformed JSON at offset %d: %v", se.Offset, se)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		f := field
		if f == "" {
			f = te.Field
		}
		if f == "" {
			return badRequest(CodeMalformedJSON, "", "the body must be a JSON object, got %s", te.Value)
		}
		return badRequest(CodeInvalidField, f, "field %q: want %s, got %s", f, te.Type, te.Value)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return badRequest(CodeMalformedJSON, field, "malformed JSON: the body ends early")
	}
	return badRequest(CodeMalformedJSON, field, "malformed JSON: %v", err)
}

// stringField reads fields[name] as a JSON string; absent gives "", false.
func stringField(fields map[string]json.RawMessage, name string) (string, bool, error) {
	raw, ok := fields[name]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, jsonError(err, name)
	}
	return s, true, nil
}

// checkText bounds a free-text field and keeps control characters (log
// injection, terminal escapes) and bidirectional overrides (text that reads
// differently from what it says) out of logs and the decision log.
func checkText(field, s string, maxLen int) error {
	if len(s) > maxLen {
		return badRequest(CodeInvalidField, field, "%s is %d bytes; the limit is %d", field, len(s), maxLen)
	}
	for i, r := range s {
		if UnsafeRune(r) || r == unicode.ReplacementChar {
			return badRequest(CodeInvalidField, field, "%s has a control, bidirectional-override or invalid character (U+%04X) at byte %d", field, r, i)
		}
	}
	return nil
}

// profileField reads a required profile name.
func profileField(fields map[string]json.RawMessage) (string, error) {
	p, ok, err := stringField(fields, "profile")
	if err != nil {
		return "", err
	}
	if !ok || p == "" {
		return "", badRequest(CodeInvalidField, "profile", "profile is required")
	}
	if err := checkText("profile", p, 64); err != nil {
		return "", err
	}
	return p, nil
}

// parseFor reads a pin length: a Go duration, positive, at most maxPin.
func parseFor(s string, maxPin time.Duration) (time.Duration, error) {
	// The config's syntax: Go durations and days ("1d", "1d12h", "90m").
	var pd profiles.Duration
	if err := pd.UnmarshalText([]byte(s)); err != nil {
		return 0, badRequest(CodeInvalidField, "for", "for: %q is not a duration such as \"30m\", \"2h\" or \"1d\"", s)
	}
	d := pd.Std()
	if d <= 0 {
		return 0, badRequest(CodeInvalidField, "for", "for must be positive; leave it out to pin until unpinned")
	}
	if d > maxPin {
		return 0, badRequest(CodeInvalidField, "for", "for %s is longer than the %s limit", d, maxPin)
	}
	return d, nil
}
