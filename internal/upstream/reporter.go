package upstream

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-cleanhttp"
	"github.com/hashicorp/go-retryablehttp"

	"github.com/imsid/imsid/internal/store"
	"github.com/imsid/imsid/profiles"
)

// Outbox is the durable queue the Reporter drains; *store.Store implements it.
type Outbox interface {
	Enqueue(ev []byte) (uint64, error)
	Peek(n int) ([]store.Item, error)
	Ack(seqs ...uint64) error
	Len() int
	Dropped() uint64
}

var _ Outbox = (*store.Store)(nil)

// AdvisoryStore keeps accepted advisories across restarts, so a reboot
// while the fleet is unreachable does not shed a quarantine. If the Outbox
// also implements it (*store.Store does), the Reporter uses it.
type AdvisoryStore interface {
	SetAdvisories(data json.RawMessage) error
	Advisories() (json.RawMessage, error)
}

var _ AdvisoryStore = (*store.Store)(nil)

// Clock is the Reporter's source of time.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the real clock (and the fake one inside testing/synctest).
type SystemClock struct{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// After implements Clock.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// ContentTypeBatch is the media type of an event batch.
const ContentTypeBatch = "application/cloudevents-batch+json"

// Sentinel errors.
var (
	ErrClosed        = errors.New("upstream: reporter closed")
	ErrRunning       = errors.New("upstream: Run is already running")
	ErrNotConfigured = errors.New("upstream: not configured")
)

// StatusError is a non-2xx answer from the server.
type StatusError struct {
	Op   string // "deliver" or "pull advisories"
	Code int
	Body string // the start of the response body, for the log
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("upstream: %s: HTTP %d %s", e.Op, e.Code, http.StatusText(e.Code))
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Permanent reports whether retrying the same request cannot help: a 4xx
// other than 401, 403, 408 and 429. 401 and 403 say the device is
// misconfigured, not the batch bad, so events are kept and retried.
func (e *StatusError) Permanent() bool {
	switch e.Code {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return e.Code >= 400 && e.Code < 500
}

type options struct {
	clock        Clock
	logger       *slog.Logger
	backoff      retryablehttp.Backoff
	waitMin      time.Duration
	waitMax      time.Duration
	retryMax     int
	heartbeat    time.Duration
	hbSet        bool
	fill         func() Heartbeat
	advisoryURL  string
	onAdvisories func([]Advisory)
	transport    http.RoundTripper
	seed         uint64
}

// Option configures a Reporter.
type Option func(*options)

// WithClock sets the clock (default: SystemClock).
func WithClock(c Clock) Option { return func(o *options) { o.clock = c } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithBackoff replaces the retry delay policy (default: exponential with
// equal jitter, honouring Retry-After). Tests use it to observe delays
// without waiting them out.
func WithBackoff(b retryablehttp.Backoff) Option { return func(o *options) { o.backoff = b } }

// WithRetryWait sets the first retry delay and the cap (default 1 s, 5 min).
func WithRetryWait(min, max time.Duration) Option {
	return func(o *options) { o.waitMin, o.waitMax = min, max }
}

// WithRetryMax sets how many times one request is retried before the
// Reporter backs off as a whole and tries again later (default 3).
func WithRetryMax(n int) Option { return func(o *options) { o.retryMax = n } }

// WithHeartbeat overrides the heartbeat interval (0 disables heartbeats) and
// sets fill, which supplies the device's part of each heartbeat (may be nil).
func WithHeartbeat(every time.Duration, fill func() Heartbeat) Option {
	return func(o *options) { o.heartbeat, o.hbSet, o.fill = every, true, fill }
}

// WithHeartbeatData sets fill without changing the configured interval.
func WithHeartbeatData(fill func() Heartbeat) Option { return func(o *options) { o.fill = fill } }

// WithAdvisoryURL overrides where advisories are fetched (default: the
// "advisories" resource next to the events URL).
func WithAdvisoryURL(u string) Option { return func(o *options) { o.advisoryURL = u } }

// WithOnAdvisories is called after each successful pull with the active
// advisories. It runs on Run's goroutine and must not block.
func WithOnAdvisories(f func([]Advisory)) Option { return func(o *options) { o.onAdvisories = f } }

// WithTransport replaces the HTTP transport; the CA file is then the
// transport's business.
func WithTransport(t http.RoundTripper) Option { return func(o *options) { o.transport = t } }

// WithSeed seeds the backoff jitter, for reproducible runs.
func WithSeed(seed uint64) Option { return func(o *options) { o.seed = seed } }

// Stats are the Reporter's counters.
type Stats struct {
	Sent     uint64 `json:"sent"`
	Batches  uint64 `json:"batches"`
	Rejected uint64 `json:"rejected"`
	Retries  uint64 `json:"retries"`
	Failures uint64 `json:"failures"`
	Queued   int    `json:"queued"`
	Dropped  uint64 `json:"dropped"`
	// LastSuccess is the last 2xx; LastError the last failure's text.
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
}

// Reporter drains an Outbox to the upstream and pulls advisories.
type Reporter struct {
	cfg       profiles.Upstream
	keys      KeySet // advisory verification keys
	device    string
	eventsURL string
	advURL    string
	ob        Outbox
	o         options
	log       *slog.Logger
	client    *retryablehttp.Client
	// pullClient does not retry: the next poll is the retry, and a server's
	// long Retry-After must not hold up event delivery on Run's goroutine.
	pullClient *retryablehttp.Client
	flushMu    sync.Mutex
	token      string
	hmacKey    []byte
	ids        Identities
	started    time.Time

	kick        chan struct{}
	closeCtx    context.Context
	closeCancel context.CancelFunc

	runMu   sync.Mutex
	running bool
	runWG   sync.WaitGroup

	closeOnce sync.Once

	mu         sync.Mutex
	stats      Stats
	advisories Advisories
	envelopes  map[string]Envelope
	// limit is the batch size in use: smaller while a refused batch is being
	// split, until delivery passes suspectEnd, its last sequence number.
	limit      int
	suspectEnd uint64
	lastResp   *http.Response
}

type bodyKey struct{}

// New builds a Reporter for cfg (already validated by profiles). Secrets
// and the CA are read from their files now, so a bad path fails at start-up
// or on reload, not at the first delivery.
func New(cfg profiles.Upstream, deviceID string, ob Outbox, opts ...Option) (*Reporter, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("%w: upstream.url is empty", ErrNotConfigured)
	}
	if deviceID == "" {
		return nil, fmt.Errorf("upstream: device id is empty")
	}
	if ob == nil {
		return nil, fmt.Errorf("upstream: outbox is nil")
	}
	o := options{
		clock:    SystemClock{},
		logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		waitMin:  time.Second,
		waitMax:  5 * time.Minute,
		retryMax: 3,
		seed:     uint64(time.Now().UnixNano()),
	}
	for _, f := range opts {
		f(&o)
	}
	if !o.hbSet {
		o.heartbeat = cfg.Heartbeat.Std()
	}
	r := &Reporter{
		cfg: cfg, keys: Keys(cfg), device: deviceID, eventsURL: cfg.URL, ob: ob, o: o, log: o.logger,
		ids: NewIdentities(cfg), started: o.clock.Now(),
		kick:       make(chan struct{}, 1),
		advisories: Advisories{}, envelopes: map[string]Envelope{}, limit: max(cfg.BatchSize, 1),
	}
	if r.advURL = o.advisoryURL; r.advURL == "" {
		u, err := url.Parse(cfg.URL)
		if err != nil {
			return nil, fmt.Errorf("upstream.url: %w", err)
		}
		r.advURL = u.ResolveReference(&url.URL{Path: "advisories"}).String()
	}
	switch cfg.Auth {
	case profiles.AuthHMAC:
		k, err := readSecret("upstream.hmac_key_file", cfg.HMACKey)
		if err != nil {
			return nil, err
		}
		r.hmacKey = []byte(k)
	default:
		if cfg.TokenFile != "" {
			t, err := readSecret("upstream.token_file", cfg.TokenFile)
			if err != nil {
				return nil, err
			}
			r.token = t
		}
	}
	transport := o.transport
	if transport == nil {
		t := cleanhttp.DefaultPooledTransport()
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("upstream.ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("upstream.ca_file: %s holds no PEM certificate", cfg.CAFile)
			}
			// The fleet CA replaces the system roots: a gateway should
			// only ever talk to its own fleet server.
			t.TLSClientConfig.RootCAs = pool
		}
		transport = t
	}
	jb := &jitterBackoff{now: o.clock.Now, rng: rand.New(rand.NewPCG(o.seed, 0x1e5d))}
	if o.backoff == nil {
		o.backoff = jb.backoff
		r.o.backoff = jb.backoff
	}
	r.client = r.newClient(transport, cfg, o, o.retryMax)
	r.pullClient = r.newClient(transport, cfg, o, 0)
	r.loadAdvisories()
	r.closeCtx, r.closeCancel = context.WithCancel(context.Background())
	return r, nil
}

// loadAdvisories restores the persisted advisories, verifying each again:
// the state file is not trusted to hold only what the fleet signed.
func (r *Reporter) loadAdvisories() {
	as, ok := r.ob.(AdvisoryStore)
	if !ok || len(r.keys) == 0 {
		return
	}
	raw, err := as.Advisories()
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			r.log.Warn("upstream: stored advisories unreadable", "err", err)
		}
		return
	}
	var envs []Envelope
	if err := json.Unmarshal(raw, &envs); err != nil {
		r.log.Warn("upstream: stored advisories malformed", "err", err)
		return
	}
	now := r.o.clock.Now()
	for _, env := range envs {
		a, err := VerifyAdvisoryKeys(r.keys, env, now)
		if err == nil {
			err = r.advisories.merge(a)
		}
		if err != nil {
			id := a.ID
			if id == "" {
				id = PeekID(env)
			}
			r.log.Info("upstream: stored advisory not restored", "id", id, "err", err)
			continue
		}
		r.envelopes[a.ID] = env
	}
}

// saveAdvisories persists the envelopes of the active advisories. Called
// with r.mu held.
func (r *Reporter) saveAdvisories(now time.Time) {
	as, ok := r.ob.(AdvisoryStore)
	if !ok {
		return
	}
	envs := []Envelope{}
	for _, a := range r.advisories.Active(now) {
		envs = append(envs, r.envelopes[a.ID])
	}
	raw, err := json.Marshal(envs)
	if err == nil {
		err = as.SetAdvisories(raw)
	}
	if err != nil {
		r.log.Warn("upstream: advisories not persisted", "err", err)
	}
}

func (r *Reporter) newClient(transport http.RoundTripper, cfg profiles.Upstream, o options, retryMax int) *retryablehttp.Client {
	return &retryablehttp.Client{
		HTTPClient: &http.Client{Transport: transport, Timeout: cfg.Timeout.Std(),
			// A redirect is never followed: it would re-send the bearer
			// token (or the signed batch) to wherever the Location points.
			// The 3xx comes back as a StatusError; events stay queued.
			CheckRedirect: noRedirects},
		RetryWaitMin: o.waitMin,
		RetryWaitMax: o.waitMax,
		RetryMax:     retryMax,
		CheckRetry:   checkRetry,
		Backoff:      o.backoff,
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
		RequestLogHook: func(_ retryablehttp.Logger, _ *http.Request, attempt int) {
			if attempt > 0 {
				r.mu.Lock()
				r.stats.Retries++
				r.mu.Unlock()
			}
		},
		PrepareRetry: r.sign,
	}
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func readSecret(field, path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s: %s is empty", field, path)
	}
	return s, nil
}

func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err == nil && resp.StatusCode == http.StatusRequestTimeout {
		return true, nil
	}
	return retryablehttp.DefaultRetryPolicy(ctx, resp, err)
}

// sign sets the auth headers; it runs before the first attempt and again
// before each retry so an HMAC timestamp is always fresh.
func (r *Reporter) sign(req *http.Request) error {
	req.Header.Set(HeaderDevice, r.device)
	if r.hmacKey != nil {
		body, _ := req.Context().Value(bodyKey{}).([]byte)
		now := r.o.clock.Now()
		req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(HeaderSignature, Sign(r.hmacKey, now, body))
	} else if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	return nil
}

// Identities is how this Reporter's config wants IMSI/ICCID exported.
func (r *Reporter) Identities() Identities { return r.ids }

// Publish queues an event of typ with data, durably, and wakes Run.
func (r *Reporter) Publish(typ EventType, data any) (uint64, error) {
	ev, err := NewEvent(r.device, typ, r.o.clock.Now(), data)
	if err != nil {
		return 0, err
	}
	return r.PublishEvent(ev)
}

// PublishEvent queues a prepared event and wakes Run.
func (r *Reporter) PublishEvent(ev Event) (uint64, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return 0, fmt.Errorf("upstream: encode event: %w", err)
	}
	seq, err := r.ob.Enqueue(b)
	if err != nil {
		return 0, fmt.Errorf("upstream: queue %s: %w", ev.Type, err)
	}
	select {
	case r.kick <- struct{}{}:
	default:
	}
	return seq, nil
}

// Stats returns the counters.
func (r *Reporter) Stats() Stats {
	r.mu.Lock()
	s := r.stats
	r.mu.Unlock()
	s.Queued, s.Dropped = r.ob.Len(), r.ob.Dropped()
	return s
}

// Run delivers queued events, sends heartbeats and polls advisories until
// ctx ends or Close is called. It returns nil then; only one Run may be
// active.
func (r *Reporter) Run(ctx context.Context) error {
	r.runMu.Lock()
	if r.closeCtx.Err() != nil {
		r.runMu.Unlock()
		return ErrClosed
	}
	if r.running {
		r.runMu.Unlock()
		return ErrRunning
	}
	r.running = true
	r.runWG.Add(1)
	r.runMu.Unlock()
	defer func() {
		r.runMu.Lock()
		r.running = false
		r.runMu.Unlock()
		r.runWG.Done()
	}()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(r.closeCtx, cancel)
	defer stop()

	clk := r.o.clock
	now := clk.Now()
	var nextHB, nextPoll, blockedUntil time.Time
	if r.o.heartbeat > 0 {
		nextHB = now.Add(r.o.heartbeat)
	}
	polling := len(r.keys) > 0 && r.cfg.AdvisoryPoll > 0
	if polling {
		nextPoll = now // pull once at start
	}
	failures := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		now = clk.Now()
		if !nextHB.IsZero() && !now.Before(nextHB) {
			r.heartbeat(now)
			nextHB = now.Add(r.o.heartbeat)
		}
		if polling && !now.Before(nextPoll) {
			if _, err := r.Pull(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("upstream advisories", "err", err)
			}
			nextPoll = now.Add(r.cfg.AdvisoryPoll.Std())
		}
		if !now.Before(blockedUntil) {
			if err := r.Flush(ctx); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				failures++
				r.mu.Lock()
				resp := r.lastResp
				r.mu.Unlock()
				wait := r.o.backoff(r.o.waitMin, r.o.waitMax, failures, resp)
				blockedUntil = clk.Now().Add(wait)
				r.log.Warn("upstream delivery failed; events kept", "err", err, "retry_in", wait, "queued", r.ob.Len())
			} else {
				failures, blockedUntil = 0, time.Time{}
			}
		}
		var timer <-chan time.Time
		if at := earliest(nextHB, nextPoll, blockedUntil); !at.IsZero() {
			timer = clk.After(max(at.Sub(clk.Now()), 0))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
		case <-timer:
		}
	}
}

func earliest(ts ...time.Time) time.Time {
	var e time.Time
	for _, t := range ts {
		if !t.IsZero() && (e.IsZero() || t.Before(e)) {
			e = t
		}
	}
	return e
}

func (r *Reporter) heartbeat(now time.Time) {
	var hb Heartbeat
	if r.o.fill != nil {
		hb = r.o.fill()
	}
	if hb.UptimeS == 0 {
		hb.UptimeS = int64(now.Sub(r.started) / time.Second)
	}
	st := r.Stats()
	hb.OutboxLen, hb.OutboxDropped, hb.Rejected = st.Queued, st.Dropped, st.Rejected
	if _, err := r.Publish(TypeHeartbeat, hb); err != nil {
		r.log.Warn("upstream heartbeat not queued", "err", err)
	}
}

// Close stops Run and waits for it to return. It is idempotent; events
// still queued stay in the outbox for the next start.
func (r *Reporter) Close() error {
	r.closeOnce.Do(func() {
		r.runMu.Lock()
		r.closeCancel()
		r.runMu.Unlock()
	})
	r.runWG.Wait()
	return nil
}

// Flush delivers queued events in order, one batch at a time, until the
// outbox is empty or a batch fails transiently (the error is returned and
// the events stay queued). A batch the server refuses permanently is split
// in halves to find the offending events, which are then dropped and counted
// as Rejected, so one bad event never wedges the queue.
func (r *Reporter) Flush(ctx context.Context) error {
	// Two flushes at once would send the same events twice.
	r.flushMu.Lock()
	defer r.flushMu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.mu.Lock()
		limit := r.limit
		r.mu.Unlock()
		items, err := r.ob.Peek(limit)
		if err != nil {
			return fmt.Errorf("upstream: read outbox: %w", err)
		}
		if len(items) == 0 {
			return nil
		}
		if err := r.deliver(ctx, items); err != nil {
			var se *StatusError
			if !errors.As(err, &se) || !se.Permanent() {
				r.mu.Lock()
				r.stats.Failures++
				r.stats.LastError = err.Error()
				r.mu.Unlock()
				return err
			}
			r.rejected(items, se)
		}
	}
}

func (r *Reporter) rejected(items []store.Item, se *StatusError) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(items) > 1 {
		r.limit = max(len(items)/2, 1)
		r.suspectEnd = max(r.suspectEnd, items[len(items)-1].Seq)
		return
	}
	r.log.Error("upstream refused an event; dropping it", "seq", items[0].Seq, "status", se.Code, "body", se.Body)
	if err := r.ob.Ack(items[0].Seq); err != nil {
		r.log.Error("upstream: could not drop a refused event", "seq", items[0].Seq, "err", err)
		return
	}
	r.stats.Rejected++
	r.stats.LastError = se.Error()
	// The culprit is found; if the rest of the suspect range holds another,
	// the next full batch will be split again.
	r.limit, r.suspectEnd = max(r.cfg.BatchSize, 1), 0
}

// passed notes that everything up to seq is out of the queue; past the
// suspect range the full batch size comes back. Called with r.mu held.
func (r *Reporter) passed(seq uint64) {
	if seq >= r.suspectEnd {
		r.limit, r.suspectEnd = max(r.cfg.BatchSize, 1), 0
	}
}

func (r *Reporter) deliver(ctx context.Context, items []store.Item) error {
	var body bytes.Buffer
	body.WriteByte('[')
	seqs := make([]uint64, 0, len(items))
	var bad []uint64
	for _, it := range items {
		if !json.Valid(it.Data) {
			// Not ours to fix and would spoil the whole batch.
			bad = append(bad, it.Seq)
			continue
		}
		if len(seqs) > 0 {
			body.WriteByte(',')
		}
		body.Write(it.Data)
		seqs = append(seqs, it.Seq)
	}
	body.WriteByte(']')
	if len(bad) > 0 {
		r.log.Error("upstream: dropping outbox items that are not JSON", "seqs", bad)
		if err := r.ob.Ack(bad...); err != nil {
			return fmt.Errorf("upstream: drop malformed items: %w", err)
		}
		r.mu.Lock()
		r.stats.Rejected += uint64(len(bad))
		r.mu.Unlock()
	}
	if len(seqs) == 0 {
		return nil
	}
	resp, err := r.do(ctx, r.client, http.MethodPost, r.eventsURL, body.Bytes(), ContentTypeBatch)
	r.mu.Lock()
	r.lastResp = resp
	r.mu.Unlock()
	if err != nil {
		if resp != nil {
			// Retries ran out on a response (a 5xx): its headers stay
			// in lastResp for Retry-After, its body must still go.
			closeBody(resp)
		}
		return fmt.Errorf("upstream: deliver %d events: %w", len(seqs), err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return statusError("deliver", resp)
	}
	closeBody(resp)
	if err := r.ob.Ack(seqs...); err != nil {
		// Delivered but not forgotten: it will be sent again, and the
		// server de-duplicates on the CloudEvents id.
		return fmt.Errorf("upstream: ack delivered events: %w", err)
	}
	r.mu.Lock()
	r.stats.Sent += uint64(len(seqs))
	r.stats.Batches++
	r.stats.LastSuccess = r.o.clock.Now()
	r.passed(seqs[len(seqs)-1])
	r.mu.Unlock()
	return nil
}

func (r *Reporter) do(ctx context.Context, c *retryablehttp.Client, method, u string, body []byte, ctype string) (*http.Response, error) {
	ctx = context.WithValue(ctx, bodyKey{}, body)
	var raw any
	if body != nil {
		raw = body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u, raw)
	if err != nil {
		return nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("User-Agent", "imsid")
	_ = r.sign(req.Request)
	return c.Do(req)
}

func statusError(op string, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	closeBody(resp)
	return &StatusError{Op: op, Code: resp.StatusCode, Body: strings.TrimSpace(string(b))}
}

func closeBody(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// maxAdvisoryBody bounds what Pull reads.
const maxAdvisoryBody = 1 << 20

// Pull fetches advisories, verifies each, and merges the accepted ones into
// the Reporter's set. It returns the advisories active now; rejected ones
// come back joined in the error as *AdvisoryError values, alongside the
// accepted ones.
func (r *Reporter) Pull(ctx context.Context) ([]Advisory, error) {
	if len(r.keys) == 0 {
		return nil, ErrNoKey
	}
	resp, err := r.do(ctx, r.pullClient, http.MethodGet, r.advURL, nil, "")
	if err != nil {
		if resp != nil {
			closeBody(resp)
		}
		return nil, fmt.Errorf("upstream: pull advisories: %w", err)
	}
	if resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotFound {
		closeBody(resp)
		return r.Advisories(r.o.clock.Now()), nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError("pull advisories", resp)
	}
	var list advisoryList
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxAdvisoryBody))
	err = dec.Decode(&list)
	closeBody(resp)
	if err != nil {
		return nil, fmt.Errorf("upstream: pull advisories: %w: %v", ErrMalformed, err)
	}
	now := r.o.clock.Now()
	var errs []error
	r.mu.Lock()
	for i, env := range list.Advisories {
		a, err := VerifyAdvisoryKeys(r.keys, env, now)
		if err == nil {
			err = r.advisories.merge(a)
		}
		if err != nil {
			id := a.ID
			if id == "" {
				id = PeekID(env)
			}
			errs = append(errs, &AdvisoryError{Index: i, ID: id, Err: err})
			continue
		}
		r.envelopes[a.ID] = env
	}
	r.advisories.prune(now)
	for id := range r.envelopes {
		if _, ok := r.advisories[id]; !ok {
			delete(r.envelopes, id)
		}
	}
	r.saveAdvisories(now)
	active := r.advisories.Active(now)
	r.mu.Unlock()
	if r.o.onAdvisories != nil {
		r.o.onAdvisories(active)
	}
	return active, errors.Join(errs...)
}

// Advisories returns the accepted advisories active at now.
func (r *Reporter) Advisories(now time.Time) []Advisory {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.advisories.Active(now)
}
