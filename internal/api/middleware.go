package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// authenticate guards the TCP listener. Every request needs the bearer
// token, reads too unless PublicReads; /healthz and /readyz stay open for
// supervisors and load balancers (they reveal nothing). With Hosts, a
// request naming another Host is refused first: a page that rebinds its
// DNS name to the gateway's address still sends its own name. An IP
// address as Host is always accepted: no page can rebind one.
func (s *Server) authenticate(next http.Handler) http.Handler {
	want := sha256.Sum256([]byte(s.cfg.Token))
	hosts := map[string]bool{}
	for _, h := range s.cfg.Hosts {
		hosts[strings.ToLower(strings.TrimSuffix(h, "."))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		read := r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions
		open := r.URL.Path == "/healthz" || r.URL.Path == "/readyz"
		if open {
			next.ServeHTTP(w, r)
			return
		}
		if h := hostOnly(r.Host); len(hosts) > 0 && !hosts[h] && net.ParseIP(h) == nil {
			s.metrics.authFailures.add(1, "host")
			s.authLog.warn(s.log, "api: refused request for another host", "remote", r.RemoteAddr, "method", r.Method,
				"path", r.URL.Path, "host", strconv.Quote(r.Host))
			writeError(w, http.StatusMisdirectedRequest, ErrorInfo{Code: CodeWrongHost,
				Message: "this listener does not answer for that Host name (api.hosts)"})
			return
		}
		if read && s.cfg.PublicReads {
			next.ServeHTTP(w, r)
			return
		}
		why := ""
		auth := r.Header.Get("Authorization")
		scheme, tok, found := strings.Cut(auth, " ")
		switch {
		case auth == "":
			why = "missing"
		case !found || !strings.EqualFold(scheme, "Bearer"):
			why = "not_bearer"
		case strings.TrimSpace(tok) == "":
			why = "missing"
		case s.cfg.Token == "":
			// Only reachable by embedding RemoteHandler without a token:
			// fail closed rather than accept an empty one.
			why = "wrong"
		default:
			// Hashing both sides makes the compare constant-time in the
			// token's length too.
			got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				why = "wrong"
			}
		}
		if why == "" {
			next.ServeHTTP(w, r)
			return
		}
		s.metrics.authFailures.add(1, why)
		s.authLog.warn(s.log, "api: refused unauthenticated request", "remote", r.RemoteAddr, "method", r.Method,
			"path", r.URL.Path, "token", why)
		w.Header().Set("WWW-Authenticate", `Bearer realm="imsid"`)
		msg := map[string]string{
			"missing":    "this request needs an Authorization: Bearer <token> header (the token in api.token_file)",
			"not_bearer": "the Authorization header must use the Bearer scheme",
			"wrong":      "the bearer token is not the one in api.token_file",
		}[why]
		writeError(w, http.StatusUnauthorized, ErrorInfo{Code: CodeUnauthorized, Message: msg})
	})
}

// statusWriter remembers the status for metrics and the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and the deadlines.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) instrument(next http.Handler, listener string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), listenerKey{}, listener))
		next.ServeHTTP(sw, r)
		route := r.Pattern
		if route == "" {
			route = "other"
		}
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		s.metrics.apiRequests.add(1, strconv.Itoa(sw.status), route)
		if route != routeEvents {
			s.metrics.apiLatency.observe(time.Since(start).Seconds(), route)
		}
		s.log.Debug("api: request", "listener", listener, "method", r.Method, "path", r.URL.Path,
			"status", sw.status, "dur", time.Since(start))
	})
}

// recoverer turns a handler panic into a 500 and one log line with the
// stack, so one bad request cannot take the daemon down.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("api: handler panic", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeError(w, http.StatusInternalServerError, ErrorInfo{Code: CodeInternal,
				Message: "internal error while serving " + r.URL.Path + " (logged)"})
		}()
		next.ServeHTTP(w, r)
	})
}

// listenerKey tags a request's context with the listener that accepted it
// ("unix" or "tcp").
type listenerKey struct{}

// remoteRequest says whether r came in on the TCP listener.
func remoteRequest(r *http.Request) bool {
	l, _ := r.Context().Value(listenerKey{}).(string)
	return l == "tcp"
}

// hostOnly is a Host header's name, lower-cased, without port or final dot.
func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(h, "]"), "["), ".")
	return strings.ToLower(h)
}
