package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const routeEvents = "GET /v1/events"

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", s.handleStatus)
	mux.HandleFunc("GET /v1/profiles", s.handleProfiles)
	mux.HandleFunc("GET /v1/decisions", s.handleDecisions)
	mux.HandleFunc("GET /v1/threats", s.handleThreats)
	mux.HandleFunc(routeEvents, s.handleEvents)
	mux.HandleFunc("POST /v1/switch", s.handleSwitch)
	mux.HandleFunc("POST /v1/pin", s.handlePin)
	mux.HandleFunc("POST /v1/unpin", s.handleUnpin)
	mux.HandleFunc("POST /v1/threat/ack", s.handleAckThreat)
	mux.HandleFunc("POST /v1/at", s.handleAT)
	mux.HandleFunc("POST /v1/probe", s.handleProbe)
	mux.HandleFunc("GET /healthz", s.handleHealthz)
	mux.HandleFunc("GET /readyz", s.handleReadyz)
	mux.Handle("GET /metrics", s.metrics.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { s.handleNoRoute(mux, w, r) })
	return mux
}

// handleNoRoute answers in JSON what ServeMux would answer in text: 405 with
// Allow when the path exists for another method, else 404.
func (s *Server) handleNoRoute(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if m == r.Method {
			continue
		}
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := mux.Handler(r2); p != "/" && p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if allow[0] == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, ErrorInfo{Code: CodeMethodNotAllowed,
			Message: r.Method + " " + r.URL.Path + ": use " + strings.Join(allow, " or ")})
		return
	}
	writeError(w, http.StatusNotFound, ErrorInfo{Code: CodeNotFound,
		Message: "no such endpoint: " + r.URL.Path + " (see docs/api.md)"})
}

func (s *Server) backendCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.cfg.BackendTimeout)
}

func (s *Server) handleStatus(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.backendCtx(r)
	defer cancel()
	st, err := s.backend.Status(ctx)
	if err != nil {
		s.backendError(w, r, "status", err)
		return
	}
	normalizeStatus(&st)
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleProfiles(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.backendCtx(r)
	defer cancel()
	ps, err := s.backend.Profiles(ctx)
	if err != nil {
		s.backendError(w, r, "profiles", err)
		return
	}
	writeJSON(w, http.StatusOK, ProfileList{At: s.cfg.Now().UTC(), Profiles: normalizeProfiles(ps)})
}

// parseDecisionQuery reads ?since=&cursor=&limit=. since is RFC 3339 or a
// Go duration back from now ("2h"); cursor is a previous next_cursor.
func parseDecisionQuery(r *http.Request, now time.Time) (DecisionQuery, error) {
	q := DecisionQuery{Limit: DefaultDecisionLimit}
	v := r.URL.Query()
	for k := range v {
		switch k {
		case "since", "cursor", "limit":
		default:
			return q, badRequest(CodeUnknownField, k, "unknown query parameter %q (accepted: since, cursor, limit)", k)
		}
	}
	if s := v.Get("since"); s != "" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			q.Since = t
		} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
			q.Since = now.Add(-d)
		} else {
			return q, badRequest(CodeInvalidField, "since", "since: %q is neither an RFC 3339 time (2026-01-02T15:04:05Z) nor a positive duration (2h)", s)
		}
	}
	if c := v.Get("cursor"); c != "" {
		n, err := strconv.ParseUint(c, 10, 64)
		if err != nil {
			return q, badRequest(CodeInvalidField, "cursor", "cursor: %q is not a cursor from next_cursor", c)
		}
		q.After = n
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxDecisionLimit {
			return q, badRequest(CodeInvalidField, "limit", "limit: %q: want 1 to %d", l, MaxDecisionLimit)
		}
		q.Limit = n
	}
	return q, nil
}

func (s *Server) handleDecisions(w http.ResponseWriter, r *http.Request) {
	q, err := parseDecisionQuery(r, s.cfg.Now())
	if err != nil {
		s.requestError(w, err)
		return
	}
	ctx, cancel := s.backendCtx(r)
	defer cancel()
	want := q.Limit
	q.Limit++ // one more tells whether another page exists
	ds, err := s.backend.Decisions(ctx, q)
	if err != nil {
		s.backendError(w, r, "decisions", err)
		return
	}
	page := DecisionPage{Decisions: ds, NextCursor: strconv.FormatUint(q.After, 10)}
	if len(ds) > want {
		page.Decisions, page.More = ds[:want], true
	}
	page.Decisions = normalizeDecisions(page.Decisions)
	if n := len(page.Decisions); n > 0 {
		page.NextCursor = strconv.FormatUint(page.Decisions[n-1].Seq, 10)
	}
	writeJSON(w, http.StatusOK, page)
}

func (s *Server) requestError(w http.ResponseWriter, err error) {
	if re, ok := errors.AsType[*requestError](err); ok {
		writeError(w, re.status, re.info)
		return
	}
	writeError(w, http.StatusBadRequest, ErrorInfo{Code: CodeBadRequest, Message: err.Error()})
}

// audit logs who asked for a mutation: the peer's uid/pid on the socket,
// the address on TCP. The token is never logged.
func (s *Server) audit(r *http.Request, op string, attrs ...any) {
	if p, ok := peerFrom(r.Context()); ok {
		attrs = append(attrs, "peer_uid", p.UID, "peer_pid", p.PID)
	} else {
		attrs = append(attrs, "remote", r.RemoteAddr)
	}
	s.log.Info("api: "+op, attrs...)
}

func (s *Server) handleSwitch(w http.ResponseWriter, r *http.Request) {
	fields, err := readBody(w, r, s.cfg.MaxBodyBytes, "profile", "reason")
	if err != nil {
		s.requestError(w, err)
		return
	}
	profile, err := profileField(fields)
	if err != nil {
		s.requestError(w, err)
		return
	}
	reason, _, err := stringField(fields, "reason")
	if err == nil {
		err = checkText("reason", reason, 200)
	}
	if err != nil {
		s.requestError(w, err)
		return
	}
	s.audit(r, "switch requested", "profile", profile, "reason", reason)
	ctx, cancel := s.backendCtx(r)
	defer cancel()
	ack, err := s.backend.Switch(ctx, profile, reason)
	if err != nil {
		s.backendError(w, r, "switch", err)
		return
	}
	s.writeAck(w, ack, "switch", NonEmpty(profile), NonEmpty(reason))
}

func (s *Server) handlePin(w http.ResponseWriter, r *http.Request) {
	fields, err := readBody(w, r, s.cfg.MaxBodyBytes, "profile", "for")
	if err != nil {
		s.requestError(w, err)
		return
	}
	profile, err := profileField(fields)
	if err != nil {
		s.requestError(w, err)
		return
	}
	var d time.Duration
	forStr, set, err := stringField(fields, "for")
	if err == nil && set {
		d, err = parseFor(forStr, s.cfg.MaxPin)
	}
	if err != nil {
		s.requestError(w, err)
		return
	}
	s.audit(r, "pin requested", "profile", profile, "for", d)
	ctx, cancel := s.backendCtx(r)
	defer cancel()
	ack, err := s.backend.Pin(ctx, profile, d)
	if err != nil {
		s.backendError(w, r, "pin", err)
		return
	}
	if ack.Until == nil && d > 0 {
		ack.Until = Ptr(s.cfg.Now().Add(d).UTC())
	}
	s.writeAck(w, ack, "pin", NonEmpty(profile), nil)
}

func (s *Server) handleUnpin(w http.ResponseWriter, r *http.Request) {
	if _, err := readBody(w, r, s.cfg.MaxBodyBytes); err != nil {
		s.requestError(w, err)
		return
	}
	s.audit(r, "unpin requested")
	ctx, cancel := s.backendCtx(r)
	defer cancel()
	ack, err := s.backend.Unpin(ctx)
	if err != nil {
		s.backendError(w, r, "unpin", err)
		return
	}
	s.writeAck(w, ack, "unpin", nil, nil)
}

// handleAckThreat takes a required reason: acknowledging a tamper alarm is
// a security decision someone must be able to account for later.
func (s *Server) handleAckThreat(w http.ResponseWriter, r *http.Request) {
	fields, err := readBody(w, r, s.cfg.MaxBodyBytes, "reason")
	if err != nil {
		s.requestError(w, err)
		return
	}
	reason, set, err := stringField(fields, "reason")
	if err == nil && (!set || strings.TrimSpace(reason) == "") {
		err = badRequest(CodeInvalidField, "reason", "reason is required: say who checked the device and why the change is expected")
	}
	if err == nil {
		err = checkText("reason", reason, 200)
	}
	if err != nil {
		s.requestError(w, err)
		return
	}
	s.audit(r, "threat acknowledgement requested", "reason", reason)
	ctx, cancel := s.backendCtx(r)
	defer cancel()
	ack, err := s.backend.AckThreat(ctx, reason)
	if err != nil {
		s.backendError(w, r, "threat_ack", err)
		return
	}
	s.writeAck(w, ack, "threat_ack", nil, NonEmpty(reason))
}

// writeAck fills what the backend left out and answers 202 (queued) or 200
// (already done).
func (s *Server) writeAck(w http.ResponseWriter, ack Ack, op string, profile, reason *string) {
	if ack.Op == "" {
		ack.Op = op
	}
	if ack.Profile == nil {
		ack.Profile = profile
	}
	if ack.Reason == nil {
		ack.Reason = reason
	}
	if ack.Status == "" {
		ack.Status = "accepted"
	}
	if ack.Message == "" {
		ack.Message = op + " accepted; the outcome appears in /v1/decisions and /v1/events"
	}
	status := http.StatusAccepted
	if ack.Status == "done" {
		status = http.StatusOK
	}
	writeJSON(w, status, ack)
}

func (s *Server) handleHealthz(w http.ResponseWriter, _ *http.Request) {
	select {
	case <-s.stopping:
		writeError(w, http.StatusServiceUnavailable, ErrorInfo{Code: CodeUnavailable, Message: "shutting down"})
	default:
		writeJSON(w, http.StatusOK, Health{Status: "ok"})
	}
}

func (s *Server) handleReadyz(w http.ResponseWriter, _ *http.Request) {
	select {
	case <-s.stopping:
		writeError(w, http.StatusServiceUnavailable, ErrorInfo{Code: CodeUnavailable, Message: "shutting down"})
		return
	default:
	}
	if err := s.backend.Ready(); err != nil {
		writeError(w, http.StatusServiceUnavailable, ErrorInfo{Code: CodeNotReady, Message: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, Health{Status: "ready"})
}
