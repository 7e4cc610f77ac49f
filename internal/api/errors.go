package api

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"time"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Our own DTOs always marshal; if one ever does not, say so
		// instead of sending half a body.
		status = http.StatusInternalServerError
		b, _ = json.Marshal(ErrorBody{Error: ErrorInfo{Code: CodeInternal, Message: "encoding the response failed"}})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, info ErrorInfo) {
	writeJSON(w, status, ErrorBody{Error: info})
}

// retryInfo fills RetryAt/RetryAfter and the Retry-After header.
func retryInfo(w http.ResponseWriter, info *ErrorInfo, at, now time.Time) {
	if at.IsZero() {
		return
	}
	at = at.UTC()
	secs := int64(math.Ceil(at.Sub(now).Seconds()))
	secs = max(secs, 0)
	info.RetryAt = &at
	info.RetryAfter = &secs
	w.Header().Set("Retry-After", strconv.FormatInt(secs, 10))
}

// refusalStatus maps a refusal code to its HTTP status.
func refusalStatus(code string) int {
	if code == CodeUnknownProfile {
		return http.StatusUnprocessableEntity
	}
	return http.StatusConflict
}

// backendError writes the response for an error from the Backend.
func (s *Server) backendError(w http.ResponseWriter, r *http.Request, op string, err error) {
	var ref *RefusedError
	var val *ValidationError
	switch {
	case errors.As(err, &ref):
		info := ErrorInfo{Code: ref.Code, Message: ref.Message, Profiles: ref.Profiles}
		if info.Message == "" {
			info.Message = op + " refused: " + ref.Code
		}
		if ref.Code == CodeUnknownProfile && len(info.Profiles) == 0 {
			// The backend did not say which profiles exist; ask it, so the
			// operator sees the valid names. (A backend that lists them is
			// trusted to have named them in its message too.)
			ctx, cancel := context.WithTimeout(r.Context(), s.cfg.BackendTimeout)
			if ps, perr := s.backend.Profiles(ctx); perr == nil && len(ps) > 0 {
				info.Profiles = profileList(ps)
				info.Message += " (known profiles: " + joinNames(info.Profiles) + ")"
			}
			cancel()
		}
		retryInfo(w, &info, ref.RetryAt, s.cfg.Now())
		writeError(w, refusalStatus(ref.Code), info)
	case errors.As(err, &val):
		code := CodeInvalidField
		if val.Field == "" {
			code = CodeBadRequest
		}
		writeError(w, http.StatusBadRequest, ErrorInfo{Code: code, Message: val.Message, Field: val.Field})
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrClosed):
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, ErrorInfo{Code: CodeUnavailable, Message: op + ": " + err.Error()})
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, ErrorInfo{Code: CodeTimeout,
			Message: op + ": the daemon did not answer within " + s.cfg.BackendTimeout.String()})
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads this.
		writeError(w, 499, ErrorInfo{Code: "client_closed", Message: "client closed the request"})
	default:
		s.log.Error("api: backend", "op", op, "err", err)
		writeError(w, http.StatusInternalServerError, ErrorInfo{Code: CodeInternal, Message: op + " failed: " + err.Error()})
	}
}
