// Package api is Liaison's gRPC surface and its REST/JSON gateway. Handlers
// are thin: check the request, convert, call one domain method, convert back.
package api

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	gproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/api/openapi"
	"github.com/liaison-registry/liaison/internal/client"
	"github.com/liaison-registry/liaison/internal/console"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/intake"
	"github.com/liaison-registry/liaison/internal/metrics"
	"github.com/liaison-registry/liaison/internal/store"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// MaxMessageBytes bounds one gRPC message (an ingest batch of up to maxBatch records).
const MaxMessageBytes = client.MaxMessageBytes

// maxStreams bounds the calls one connection may have open at once.
const maxStreams = 256

// Server serves the gRPC services and, through an in-process connection to
// the same gRPC server, the REST gateway: REST calls pass the same
// interceptors as gRPC calls.
type Server struct {
	log    *slog.Logger
	store  *store.Store
	grpc   *grpc.Server
	health *health.Server
	mem    *bufconn.Listener
	audit  *auditor
	auth   *authenticator
	guard  *guard
	tls    *tls.Config
	evals  *evaluation.Service
	// maxConns bounds the connections one address holds on each port.
	maxConns int
}

// Deps are what the services run on.
type Deps struct {
	Store       *store.Store
	Evaluations *evaluation.Service
	Log         *slog.Logger
	// TLS, when set, serves gRPC and HTTP over TLS.
	TLS *tls.Config
	// MaxAuthFailures bounds failed authentications per key id and per
	// client in a minute (DefaultMaxAuthFailures if 0; negative: unbounded).
	MaxAuthFailures int
	// MaxConnsPerClient bounds the connections one address holds open on
	// each port (DefaultMaxConnsPerClient if 0).
	MaxConnsPerClient int
	// Metrics, when set, counts and times every call and the records
	// ingested.
	Metrics *metrics.Set
}

// New builds the server.
func New(d Deps) *Server {
	st, log := d.Store, d.Log
	if log == nil {
		log = slog.Default()
	}
	log = slog.New(WithRequestIDs(log.Handler()))
	s := &Server{log: log, store: st, health: health.NewServer(), mem: bufconn.Listen(1 << 20), audit: newAuditor(st, log), tls: d.TLS, evals: d.Evaluations,
		maxConns: cmp.Or(d.MaxConnsPerClient, DefaultMaxConnsPerClient)}
	auth := newAuthenticator(st, log)
	auth.fails.max = cmp.Or(d.MaxAuthFailures, DefaultMaxAuthFailures)
	s.auth = auth
	g := &guard{auth: auth, audit: s.audit, log: log, metrics: d.Metrics}
	s.guard = g
	opts := []grpc.ServerOption{
		// The key is checked on the headers, before the message is read.
		grpc.InTapHandle(g.tap),
		// A connection must finish its handshake in 10 s, and one with no
		// call open for 10 min is closed: neither holds a slot for ever.
		grpc.ConnectionTimeout(10 * time.Second),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 10 * time.Minute}),
		grpc.ForceServerCodecV2(recordsCodec{encoding.GetCodecV2(gproto.Name)}),
		grpc.MaxRecvMsgSize(MaxMessageBytes),
		// Bounds per connection, and pings no more often than a client
		// that keeps a stream open needs.
		grpc.MaxConcurrentStreams(maxStreams),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
	}
	// The request id comes first: every later step logs and audits with
	// it. Then the metrics, outside the rest, so that a call the guard
	// refuses, or a panic answered INTERNAL, counts with its code. Access
	// before the request's fields (known.go), so a caller without a key
	// learns nothing of the schema.
	unary := []grpc.UnaryServerInterceptor{s.requestUnary}
	stream := []grpc.StreamServerInterceptor{s.requestStream}
	if d.Metrics != nil {
		unary = append(unary, d.Metrics.GRPC.UnaryServerInterceptor())
		stream = append(stream, d.Metrics.GRPC.StreamServerInterceptor())
	}
	unary = append(unary, s.recoverUnary, s.logUnary, g.unary, s.knownUnary)
	stream = append(stream, s.recoverStream, s.logStream, g.stream, s.knownStream)
	opts = append(opts, grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(stream...))
	s.grpc = grpc.NewServer(opts...)
	pb.RegisterAccessServiceServer(s.grpc, &accessServer{store: st, auth: auth, audit: s.audit, log: log})
	pb.RegisterIngestServiceServer(s.grpc, &ingestServer{svc: &intake.Service{Store: st}, store: st, log: log, metrics: d.Metrics})
	specs := d.Evaluations.Measures
	pb.RegisterMeasureServiceServer(s.grpc, &measureServer{specs: specs, log: log})
	pb.RegisterEvaluationServiceServer(s.grpc, &evaluationServer{svc: d.Evaluations, log: log})
	pb.RegisterSubmissionServiceServer(s.grpc, &submissionServer{runs: d.Evaluations, measures: specs, log: log})
	pb.RegisterReportServiceServer(s.grpc, &reportServer{runs: d.Evaluations, measures: specs, log: log})
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	if d.Metrics != nil {
		d.Metrics.GRPC.InitializeMetrics(s.grpc) // every method's series, at 0
	}
	return s
}

// Serve serves gRPC on grpcLis and HTTP on httpLis until ctx is done, then
// shuts down gracefully: health turns NOT_SERVING, in-flight calls finish
// (up to a grace period), and listeners close.
func (s *Server) Serve(ctx context.Context, grpcLis, httpLis net.Listener) error {
	gw, conn, err := s.gateway(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	grpcLis, httpLis = limitPerClient(grpcLis, s.maxConns), limitPerClient(httpLis, s.maxConns)
	if s.tls != nil {
		// TLS ends at the listeners; the in-process gateway connection is
		// in memory and needs none.
		grpcLis = tls.NewListener(grpcLis, withALPN(s.tls, "h2"))
		httpLis = tls.NewListener(httpLis, withALPN(s.tls, "http/1.1"))
	}
	httpSrv := &http.Server{Handler: s.auditRefused(gw), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Hour, IdleTimeout: 2 * time.Minute}
	go s.audit.run(ctx)
	go s.watchDatabase(ctx)
	errc := make(chan error, 3)
	go func() { errc <- s.grpc.Serve(grpcLis) }()
	go func() { errc <- s.grpc.Serve(s.mem) }()
	go func() { errc <- httpSrv.Serve(httpLis) }()
	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.log.Info("serving", "grpc", grpcLis.Addr().String(), "http", httpLis.Addr().String())

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.health.Shutdown()
	const grace = 20 * time.Second
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	_ = httpSrv.Shutdown(shutdownCtx)
	stopped := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-shutdownCtx.Done():
		s.grpc.Stop()
	}
	s.audit.Flush(context.WithoutCancel(shutdownCtx))
	s.log.Info("stopped")
	if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// gateway builds the HTTP handler: REST routes, the OpenAPI document and a health check.
func (s *Server) gateway(ctx context.Context) (http.Handler, *grpc.ClientConn, error) {
	conn, err := grpc.NewClient("passthrough:///liaison-in-process",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return s.mem.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(MaxMessageBytes), grpc.MaxCallRecvMsgSize(MaxMessageBytes)),
	)
	if err != nil {
		return nil, nil, fmt.Errorf("gateway connection: %w", err)
	}
	// Request bodies are decoded keeping what the schema does not know, for
	// the server to refuse (known.go), instead of dropping it.
	gw := runtime.NewServeMux(runtime.WithMarshalerOption(runtime.MIMEWildcard, newRESTJSON()),
		runtime.WithIncomingHeaderMatcher(gatewayHeaders))
	for _, register := range []func(context.Context, *runtime.ServeMux, *grpc.ClientConn) error{
		pb.RegisterAccessServiceHandler, pb.RegisterIngestServiceHandler, pb.RegisterMeasureServiceHandler, pb.RegisterEvaluationServiceHandler,
		pb.RegisterSubmissionServiceHandler, pb.RegisterReportServiceHandler,
	} {
		if err := register(ctx, gw, conn); err != nil {
			conn.Close()
			return nil, nil, err
		}
	}
	mux := http.NewServeMux()
	// A REST body is bounded like a gRPC message (JSON spells bytes in
	// base64, so it gets a third more).
	mux.Handle("/v1/", s.keyFirst(http.MaxBytesHandler(gw, MaxMessageBytes*4/3+1<<20)))
	// Files over REST for curl (download.go): reports and submissions as
	// files, and a submission file as the body to validate.
	mux.Handle("GET "+reportDownloadPath, s.keyFirst(downloadReport(conn)))
	mux.Handle("GET "+submissionDownloadPath, s.keyFirst(downloadSubmission(conn)))
	mux.Handle("POST /v1/submissions:validate", s.keyFirst(http.MaxBytesHandler(validateRaw(conn, gw), MaxMessageBytes*4/3+1<<20)))
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openapi.JSON) //nolint:errcheck
	})
	// The document to read in a browser, rendered here: no script, nothing
	// fetched from elsewhere. Public like the document itself.
	mux.Handle("GET /docs", openapi.Viewer())
	// The web console, on the same port, through the same guard.
	console.New(console.Deps{Gate: consoleGate{s}, Conn: conn, API: mux, Runs: s.evals, Measures: s.evals.Measures,
		Secure: s.tls != nil, Log: s.log}).Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := s.store.Ping(r.Context()); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	return mux, conn, nil
}

func (s *Server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.ErrorContext(ctx, "panic", "method", info.FullMethod, "panic", p, "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "internal error")
		}
	}()
	return next(ctx, req)
}

func (s *Server) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic", "method", info.FullMethod, "panic", p, "stack", string(debug.Stack()))
			err = status.Error(codes.Internal, "internal error")
		}
	}()
	return next(srv, ss)
}

func (s *Server) logUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := next(ctx, req)
	s.logCall(ctx, info.FullMethod, start, err)
	return resp, err
}

func (s *Server) logStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	start := time.Now()
	err := next(srv, ss)
	s.logCall(ss.Context(), info.FullMethod, start, err)
	return err
}

// logCall logs method, code and duration only: never request content, which may hold PHI.
func (s *Server) logCall(ctx context.Context, method string, start time.Time, err error) {
	code := status.Code(err)
	level := slog.LevelInfo
	if code == codes.Internal || code == codes.Unknown {
		level = slog.LevelError
	}
	s.log.Log(ctx, level, "rpc", "method", method, "code", code.String(), "ms", time.Since(start).Milliseconds())
}

func withALPN(c *tls.Config, proto string) *tls.Config {
	c = c.Clone()
	c.NextProtos = []string{proto}
	if c.MinVersion == 0 {
		c.MinVersion = tls.VersionTLS12
	}
	return c
}

// watchDatabase keeps grpc.health.v1 in step with the database, as /healthz
// is: a server that cannot reach PostgreSQL answers NOT_SERVING, so a load
// balancer sends calls elsewhere until it can again.
func (s *Server) watchDatabase(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := s.store.Ping(pctx)
		cancel()
		st := healthpb.HealthCheckResponse_SERVING
		if err != nil {
			st = healthpb.HealthCheckResponse_NOT_SERVING
		}
		if ctx.Err() == nil {
			s.health.SetServingStatus("", st)
		}
	}
}

// keyFirst checks a REST request's key before its body is read: a request
// without a valid key is answered 401 (as the API answers it) and its
// connection closed, so its body is neither read nor drained.
func (s *Server) keyFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := httpBearer(r)
		_, err := s.auth.authenticate(r.Context(), token, hostOf(r.RemoteAddr))
		if err := refusal(err); err != nil {
			id, _, _ := access.ParseToken(token)
			s.audit.record(r.Context(), access.Principal{}, store.AuditEvent{Method: r.Method + " " + r.URL.Path, KeyID: id}, time.Now(), err)
			s.guard.requests.Store(r.Header.Get(gatewayRequestHeader), true)
			st := status.Convert(err)
			s.guard.metrics.RefusedAtDoor(st.Code().String())
			code := http.StatusUnauthorized
			if st.Code() == codes.ResourceExhausted {
				code = http.StatusTooManyRequests
			} else {
				w.Header().Set("WWW-Authenticate", "Bearer")
			}
			w.Header().Set("Connection", "close")
			writeStatus(w, r, code, st)
			return
		}
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &paced{ReadCloser: r.Body, rc: http.NewResponseController(w), start: time.Now()}
		}
		next.ServeHTTP(w, r)
	})
}

// A keyed request's body must keep up a minimum rate once a grace period
// is over, or the read fails and the connection is closed: a key holder
// trickling bodies cannot hold connections for the hour ReadTimeout allows.
// 4 KiB/s (32 kbit/s) is slower than any network a practice uploads from.
const (
	minBodyRate  = 4 << 10 // bytes per second
	bodyRateFrom = 10 * time.Second
)

// paced moves the connection's read deadline along a minimum-rate schedule:
// the bytes read so far buy their time at minBodyRate after the grace.
type paced struct {
	io.ReadCloser
	rc    *http.ResponseController
	start time.Time
	read  int64
}

func (p *paced) Read(b []byte) (int, error) {
	due := p.start.Add(bodyRateFrom + time.Duration(p.read)*time.Second/minBodyRate)
	p.rc.SetReadDeadline(due) //nolint:errcheck // unsupported only on connections this server never makes
	n, err := p.ReadCloser.Read(b)
	p.read += int64(n)
	if err == io.EOF {
		// The whole body is in: the server now watches the connection for
		// the client going away, and a deadline left here would cancel the
		// call while it works.
		p.rc.SetReadDeadline(time.Time{}) //nolint:errcheck
	}
	return n, err
}

// gatewayRequestHeader is the HTTP header that reaches calls as
// requestHeader metadata.
const gatewayRequestHeader = "Grpc-Metadata-" + requestHeader

// gatewayHeaders are the HTTP headers the REST gateway passes to calls as
// metadata: the permanent ones, as by default, and the two auditRefused
// sets on every request (whatever the client sent in them is replaced):
// the internal request key and the request id. No other Grpc-Metadata-*
// header reaches a call.
func gatewayHeaders(key string) (string, bool) {
	switch http.CanonicalHeaderKey(key) {
	case http.CanonicalHeaderKey(gatewayRequestHeader):
		return requestHeader, true
	case http.CanonicalHeaderKey(RequestIDHeader):
		return RequestIDHeader, true
	}
	return runtime.DefaultHeaderMatcher(key)
}

// auditRefused gives each HTTP request its request id (the client's
// X-Request-Id if acceptable, else a new one), returned in the answer's
// X-Request-Id header and passed to the call, and records, in the audit
// log, a request refused before it reached a call (bad JSON, a body over
// the limit, an unknown route): the calls record the rest. An internal key
// of its own, never the client's id, tells whether a call audited it.
func (s *Server) auditRefused(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := rand.Text()
		r.Header.Set(gatewayRequestHeader, key)
		reqID := requestIDOf(r.Header.Get(RequestIDHeader))
		r.Header.Set(RequestIDHeader, reqID)
		w.Header().Set(RequestIDHeader, reqID)
		r = r.WithContext(withRequestID(r.Context(), reqID))
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(sw, r)
		if _, audited := s.guard.requests.LoadAndDelete(key); !audited && sw.code >= 400 {
			keyID, _, _ := access.ParseToken(httpBearer(r))
			s.audit.record(r.Context(), access.Principal{}, store.AuditEvent{Method: r.Method + " " + r.URL.Path, KeyID: keyID},
				start, status.Error(httpCode(sw.code), http.StatusText(sw.code)))
		}
	})
}

// statusWriter remembers the status an HTTP answer was given.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// httpCode is the gRPC code an HTTP refusal stands for, for the audit log.
func httpCode(status int) codes.Code {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		return codes.NotFound
	case http.StatusTooManyRequests:
		return codes.ResourceExhausted
	case http.StatusConflict:
		return codes.FailedPrecondition
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	case http.StatusInternalServerError:
		return codes.Internal
	}
	return codes.Unknown
}

// httpBearer reads the token from an HTTP request's Authorization header.
func httpBearer(r *http.Request) string {
	return bearerOf(metadata.MD{"authorization": r.Header.Values("Authorization")})
}
