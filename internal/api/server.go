package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/imsid/imsid/profiles"
)

// Config configures a Server. The zero value of every field but Backend
// means its default.
type Config struct {
	// Socket is the unix socket path; empty: no socket.
	Socket string
	// SocketMode is applied to the socket file (default 0660).
	SocketMode fs.FileMode
	// Listen is an optional TCP address ("127.0.0.1:8787", ":0" in tests).
	Listen string
	// Token is the bearer token every TCP request but /healthz and /readyz
	// must present. Required with Listen.
	Token string
	// PublicReads lets GETs on TCP through without the token. It needs
	// Hosts: a public read is what a DNS-rebinding page would make.
	PublicReads bool
	// Hosts, when set, are the only Host header names (port ignored) the
	// TCP listener answers.
	Hosts []string
	// TLSCert and TLSKey (PEM files) turn TLS on for the TCP listener. A
	// listener on an address other than loopback needs them, unless
	// InsecurePlaintext.
	TLSCert, TLSKey   string
	InsecurePlaintext bool

	// MaxBodyBytes bounds request bodies (default 64 KiB).
	MaxBodyBytes int64
	// MaxPin bounds POST /v1/pin "for" (default 30 days).
	MaxPin time.Duration
	// Heartbeat is the SSE comment interval (default 15 s).
	Heartbeat time.Duration
	// MaxStreams bounds concurrent GET /v1/events streams on the unix
	// socket (default 32): a gateway has little memory and each stream holds
	// a buffer. MaxTCPStreams bounds them on the TCP listener (default 8),
	// separately, so remote readers cannot take the local operator's slots.
	MaxStreams    int
	MaxTCPStreams int
	// MaxTCPConns bounds the connections the TCP listener holds open at a
	// time (default 64); more wait in the kernel's backlog. The unix socket
	// has its own server and is always served.
	MaxTCPConns int
	// TCPIdleTimeout closes idle TCP keep-alive connections (default 30 s).
	TCPIdleTimeout time.Duration
	// LogEvery bounds how often refused requests and accept errors are
	// logged (default 10 s): one WARN line, then a count of those held back.
	LogEvery time.Duration
	// BackendTimeout bounds each Backend call (default 10 s).
	BackendTimeout time.Duration
	// ShutdownGrace bounds Close's graceful phase (default 5 s).
	ShutdownGrace time.Duration

	Logger  *slog.Logger     // default: discard
	Metrics *Metrics         // default: NewMetrics()
	Now     func() time.Time // default: time.Now
}

// Defaults for Config.
const (
	DefaultSocketMode     fs.FileMode = 0o660
	DefaultMaxBodyBytes               = 64 << 10
	DefaultMaxPin                     = 30 * 24 * time.Hour
	DefaultHeartbeat                  = 15 * time.Second
	DefaultMaxStreams                 = 32
	DefaultMaxTCPStreams              = 8
	DefaultBackendTimeout             = 10 * time.Second
	DefaultMaxTCPConns                = 64
	DefaultTCPIdleTimeout             = 30 * time.Second
	DefaultLogEvery                   = 10 * time.Second
	DefaultShutdownGrace              = 5 * time.Second
	// MinTokenLen is the shortest bearer token accepted.
	MinTokenLen = profiles.MinSecretLen
)

// ConfigFrom turns the config file's api section into a Config, reading the
// token file. Logger, Metrics and Now are left for the caller.
func ConfigFrom(a profiles.API) (Config, error) {
	c := Config{
		Socket:            a.Socket,
		SocketMode:        fs.FileMode(a.SocketMode),
		Listen:            a.Listen,
		PublicReads:       !a.TokenForReads,
		Hosts:             a.Hosts,
		TLSCert:           a.TLSCert,
		TLSKey:            a.TLSKey,
		InsecurePlaintext: a.InsecurePlaintext,
	}
	if a.TokenFile != "" {
		b, err := os.ReadFile(a.TokenFile)
		if err != nil {
			return Config{}, fmt.Errorf("api.token_file: %w", err)
		}
		c.Token = strings.TrimSpace(string(b))
		if c.Token == "" {
			return Config{}, fmt.Errorf("api.token_file: %s is empty", a.TokenFile)
		}
	}
	return c, nil
}

func (c *Config) validate() error {
	if c.Socket == "" && c.Listen == "" {
		return errors.New("api: neither a socket nor a TCP listen address configured")
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			return fmt.Errorf("api: listen %q: want host:port: %w", c.Listen, err)
		}
		if len(c.Token) < MinTokenLen {
			return fmt.Errorf("api: a TCP listener needs a bearer token of at least %d characters (api.token_file)", MinTokenLen)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("api: tls_cert and tls_key go together")
	}
	if c.Listen != "" && c.PublicReads && len(c.Hosts) == 0 {
		return errors.New("api: public reads on TCP (token_for_reads: false) need api.hosts, the names the listener answers")
	}
	if c.Listen != "" && c.TLSCert == "" && !c.InsecurePlaintext && !LoopbackAddr(c.Listen) {
		return fmt.Errorf("api: listen %s is not a loopback address: it needs tls_cert and tls_key (or insecure_plaintext: true)", c.Listen)
	}
	if c.TLSCert != "" && c.Listen == "" {
		return errors.New("api: tls_cert without a TCP listen address")
	}
	if c.SocketMode == 0 {
		c.SocketMode = DefaultSocketMode
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxPin <= 0 {
		c.MaxPin = DefaultMaxPin
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = DefaultMaxStreams
	}
	if c.MaxTCPStreams <= 0 {
		c.MaxTCPStreams = DefaultMaxTCPStreams
	}
	if c.MaxTCPConns <= 0 {
		c.MaxTCPConns = DefaultMaxTCPConns
	}
	if c.TCPIdleTimeout <= 0 {
		c.TCPIdleTimeout = DefaultTCPIdleTimeout
	}
	if c.LogEvery <= 0 {
		c.LogEvery = DefaultLogEvery
	}
	if c.BackendTimeout <= 0 {
		c.BackendTimeout = DefaultBackendTimeout
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// LoopbackAddr reports whether a host:port binds only loopback.
func LoopbackAddr(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Server serves the API on its listeners. Start it once; Shutdown or Close
// stops it.
type Server struct {
	cfg     Config
	backend Backend
	log     *slog.Logger
	metrics *Metrics

	local  http.Handler // unix socket: no token
	remote http.Handler // TCP: bearer token

	// Event streams open per listener: each has its own limit.
	localStreams, remoteStreams atomic.Int64
	// authLog and netLog bound the WARN lines a remote client can cause.
	authLog, netLog *rateLog

	mu       sync.Mutex
	started  bool
	servers  []*http.Server
	tcpAddr  net.Addr
	stopping chan struct{} // closed when shutdown begins: ends SSE streams
	done     chan struct{} // closed when every Serve goroutine returned
	wg       sync.WaitGroup
	stopOnce sync.Once
	stopErr  error
}

// New checks cfg and builds the handlers; nothing listens until Start.
func New(b Backend, cfg Config) (*Server, error) {
	if b == nil {
		return nil, errors.New("api: nil Backend")
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:      cfg,
		backend:  b,
		log:      cfg.Logger,
		metrics:  cfg.Metrics,
		stopping: make(chan struct{}),
		done:     make(chan struct{}),
		authLog:  newRateLog(cfg.Now, cfg.LogEvery),
		netLog:   newRateLog(cfg.Now, cfg.LogEvery),
	}
	mux := s.routes()
	s.local = s.instrument(s.recoverer(mux), "unix")
	s.remote = s.instrument(s.recoverer(s.authenticate(mux)), "tcp")
	return s, nil
}

// Metrics is the Metrics the server exposes.
func (s *Server) Metrics() *Metrics { return s.metrics }

// LocalHandler is the handler behind the unix socket (no token), for tests
// and for embedding.
func (s *Server) LocalHandler() http.Handler { return s.local }

// RemoteHandler is the handler behind the TCP listener (bearer token).
func (s *Server) RemoteHandler() http.Handler { return s.remote }

// Start binds the listeners and serves in the background. A failure leaves
// nothing bound.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stopping:
		return ErrClosed
	default:
	}
	if s.started {
		return errors.New("api: server already started")
	}
	var lns []net.Listener
	var handlers []http.Handler
	fail := func(err error) error {
		for _, l := range lns {
			l.Close()
		}
		return err
	}
	if s.cfg.Socket != "" {
		l, err := listenUnix(s.cfg.Socket, s.cfg.SocketMode)
		if err != nil {
			return fail(err)
		}
		lns = append(lns, l)
		handlers = append(handlers, s.local)
	}
	if s.cfg.Listen != "" {
		tl, err := net.Listen("tcp", s.cfg.Listen)
		if err != nil {
			return fail(fmt.Errorf("api: listen %s: %w", s.cfg.Listen, err))
		}
		l := net.Listener(newLimitListener(tl, s.cfg.MaxTCPConns, s.log, s.netLog))
		lns = append(lns, l)
		if s.cfg.TLSCert != "" {
			cert, err := tls.LoadX509KeyPair(s.cfg.TLSCert, s.cfg.TLSKey)
			if err != nil {
				return fail(fmt.Errorf("api: tls: %w", err))
			}
			lns[len(lns)-1] = tls.NewListener(l, &tls.Config{
				MinVersion:   tls.VersionTLS12,
				Certificates: []tls.Certificate{cert},
				NextProtos:   []string{"http/1.1"}, // h2 is not wired on a wrapped listener
			})
		}
		s.tcpAddr = l.Addr()
		handlers = append(handlers, s.remote)
	}
	s.started = true
	for i, l := range lns {
		hs := s.httpServer(handlers[i], l)
		s.servers = append(s.servers, hs)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if err := hs.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("api: serve", "addr", l.Addr().String(), "err", err)
			}
		}()
	}
	go func() {
		s.wg.Wait()
		close(s.done)
	}()
	s.log.Info("api: listening", "socket", s.cfg.Socket, "tcp", addrString(s.tcpAddr), "tls", s.cfg.TLSCert != "")
	return nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// TCPAddr is the bound TCP address (useful with ":0"), or nil.
func (s *Server) TCPAddr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcpAddr
}

func (s *Server) httpServer(h http.Handler, l net.Listener) *http.Server {
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second, // SSE lifts it per stream
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	if _, ok := l.(*net.UnixListener); ok {
		hs.ConnContext = peerCredContext
		hs.ErrorLog = slog.NewLogLogger(s.log.Handler(), slog.LevelDebug)
	} else {
		// Remote clients cause these lines (accept errors, TLS handshake
		// failures): WARN, at a bounded rate. Idle keep-alives go sooner.
		hs.ErrorLog = log.New(&rateWriter{log: s.log, rate: s.netLog, addr: l.Addr().String()}, "", 0)
		hs.IdleTimeout = s.cfg.TCPIdleTimeout
	}
	return hs
}

// Shutdown stops accepting, ends SSE streams, and waits for in-flight
// requests until ctx ends (then closes what is left). It is idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		close(s.stopping)
		servers := s.servers
		s.mu.Unlock()
		var errs []error
		for _, hs := range servers {
			if err := hs.Shutdown(ctx); err != nil {
				errs = append(errs, err)
				hs.Close()
			}
		}
		s.stopErr = errors.Join(errs...)
	})
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started {
		<-s.done
	}
	return s.stopErr
}

// Close shuts down with the configured grace period. Idempotent; it returns
// when every goroutine the server started has ended.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownGrace)
	defer cancel()
	return s.Shutdown(ctx)
}
