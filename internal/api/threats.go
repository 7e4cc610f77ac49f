package api

import (
	"context"
	"net/http"
	"slices"
	"time"
)

// ThreatBackend is implemented by a Backend that keeps the threat
// engine's findings: GET /v1/threats answers 404 without it.
type ThreatBackend interface {
	Threats(ctx context.Context) (ThreatList, error)
}

// ThreatList is GET /v1/threats: the findings the daemon holds (active
// first, newest first within each) and every quarantine in force.
type ThreatList struct {
	At    time.Time `json:"at"`
	Level string    `json:"level"`
	// Findings are bounded by count and age (docs/api.md).
	Findings    []Finding         `json:"findings"`
	Quarantines []QuarantineEntry `json:"quarantines"`
}

// Finding is one detector's finding on one scope, folded over its repeats.
type Finding struct {
	Rule     string `json:"rule"`     // "D1a"
	Detector string `json:"detector"` // "D1"
	Reason   string `json:"reason"`   // machine-readable, e.g. "2g_under_lte_policy"
	Severity string `json:"severity"` // low, medium, high, critical
	// Scope is "device", "profile:NAME", "plmn:26201" or "cell:26201/5A29C0B"
	// (cell identity in upper-case hex, as in status).
	Scope string `json:"scope"`
	// Sentence says what was seen: the detector's finding, the RAT, the
	// network, TAC and cell, the signal and how often.
	Sentence  string    `json:"sentence"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
	Count     int       `json:"count"`
	// Active: the finding still weighs on the threat score (seen within
	// the scoring window); otherwise it is recent history.
	Active bool `json:"active"`
	// Latched: a tamper-class Critical that holds until acknowledged
	// (POST /v1/threat/ack).
	Latched bool `json:"latched"`
	// Response is what the finding asked of the switcher ("leave_now",
	// "forbid_2g", ...); empty for findings that act only through the score.
	Response []string `json:"response"`
	// DecisionSeq is the decision the finding caused, when one did.
	DecisionSeq *uint64 `json:"decision_seq"`
}

// FindingRef is the finding a threat decision acted on.
type FindingRef struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Scope    string `json:"scope"`
	Sentence string `json:"sentence"`
}

// QuarantineEntry is one quarantine in the switcher's book, of any kind.
type QuarantineEntry struct {
	Kind  string    `json:"kind"` // profile, plmn, cell
	Key   string    `json:"key"`  // "telekom-de", "26201", "26201/5A29C0B"
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Count is the consecutive quarantines of the key (the TTL doubles).
	Count  int    `json:"count"`
	Reason Reason `json:"reason"`
}

func (l *ThreatList) normalize() {
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
	l.normalize()
	writeJSON(w, http.StatusOK, l)
}

// ATBackend is implemented by a Backend that passes AT commands to the
// modem through its own command queue (POST /v1/at).
type ATBackend interface {
	AT(ctx context.Context, command string) (ATReply, error)
}

// ATReply is POST /v1/at's answer: the modem's information lines (IMSI and
// ICCID masked) and whether it answered OK.
type ATReply struct {
	Command string   `json:"command"`
	OK      bool     `json:"ok"`
	Lines   []string `json:"lines"`
	// Error is the modem's error answer or why the command was not sent.
	Error *string `json:"error"`
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
