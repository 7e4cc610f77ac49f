package api

import (
	"context"
	"net/http"

	"github.com/imsid/imsid/internal/modemreport"
)

// ProbeBackend is implemented by a Backend that probes the modem through
// its own command queue (POST /v1/probe): the same queries and the same
// report as `imsictl probe --device`, without a second AT session on the
// port.
type ProbeBackend interface {
	Probe(ctx context.Context) (modemreport.Report, error)
}

// handleProbe runs one probe. It sends AT commands, so like the AT
// pass-through it is a POST: it needs the token on TCP, and it is audited.
// IMSI and ICCID are always masked.
func (s *Server) handleProbe(w http.ResponseWriter, r *http.Request) {
	if _, err := readBody(w, r, s.cfg.MaxBodyBytes); err != nil {
		s.requestError(w, err)
		return
	}
	pb, ok := s.backend.(ProbeBackend)
	if !ok {
		writeError(w, http.StatusNotFound, ErrorInfo{Code: CodeNotFound, Message: "this daemon has no probe"})
		return
	}
	s.audit(r, "probe")
	ctx, cancel := s.backendCtx(r)
	defer cancel()
	rep, err := pb.Probe(ctx)
	if err != nil {
		s.backendError(w, r, "probe", err)
		return
	}
	if rep.Neighbours == nil {
		rep.Neighbours = []modemreport.Neighbour{}
	}
	if rep.Unanswered == nil {
		rep.Unanswered = []string{}
	}
	writeJSON(w, http.StatusOK, rep)
}
