package api

import (
	"context"
	"net/http"
	"slices"
)

// ThreatBackend is implemented by a Backend that keeps the threat
// engine's findings: GET /v1/threats answers 404 without it.
type ThreatBackend interface {
	Threats(ctx context.Context) (ThreatList, error)
}

func normalizeThreats(l *ThreatList) {
	l.Findings = slices.Clone(nonNil(l.Findings))
	for i := range l.Findings {
		l.Findings[i].Response = nonNil(l.Findings[i].Response)
	}
	l.Quarantines = nonNil(l.Quarantines)
}

func (s *Server) handleThreats(w http.ResponseWriter, r *http.Request) {
	tb, ok := s.backend.(ThreatBackend)
	if !ok {
		writeError(w, http.StatusNotFound, ErrorInfo{Code: CodeNotFound, Message: "this daemon keeps no findings"})
		return
	}
	ctx, cancel := s.backendCtx(r)
	defer cancel()
	l, err := tb.Threats(ctx)
	if err != nil {
		s.backendError(w, r, "threats", err)
		return
	}
	normalizeThreats(&l)
	writeJSON(w, http.StatusOK, l)
}

// ATBackend is implemented by a Backend that passes AT commands to the
// modem through its own command queue (POST /v1/at).
type ATBackend interface {
	AT(ctx context.Context, command string) (ATReply, error)
}

// handleAT is the operator's AT pass-through. Like every mutation it needs
// the token on TCP, and it is audited with the command.
func (s *Server) handleAT(w http.ResponseWriter, r *http.Request) {
	fields, err := readBody(w, r, s.cfg.MaxBodyBytes, "command")
	if err != nil {
		s.requestError(w, err)
		return
	}
	cmd, set, err := stringField(fields, "command")
	if err == nil && (!set || cmd == "") {
		err = badRequest(CodeInvalidField, "command", "command is required, e.g. \"AT+CSQ\"")
	}
	if err == nil {
		err = checkText("command", cmd, 256)
	}
	if err != nil {
		s.requestError(w, err)
		return
	}
	ab, ok := s.backend.(ATBackend)
	if !ok {
		writeError(w, http.StatusNotFound, ErrorInfo{Code: CodeNotFound, Message: "this daemon has no AT pass-through"})
		return
	}
	s.audit(r, "AT pass-through", "command", cmd)
	ctx, cancel := s.backendCtx(r)
	defer cancel()
	rep, err := ab.AT(ctx, cmd)
	if err != nil {
		s.backendError(w, r, "at", err)
		return
	}
	rep.Lines = nonNil(rep.Lines)
	writeJSON(w, http.StatusOK, rep)
}
