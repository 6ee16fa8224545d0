package api

import (
	"context"
	"crypto/rand"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// RequestIDHeader carries a request's id: the HTTP header and the gRPC
// metadata key a client may send one in, and that every answer carries
// back. The same id is on the request's log lines, its audit event
// (audit_events.request_id) and, as a google.rpc.RequestInfo detail, its
// error answer, so one id finds all three.
const RequestIDHeader = "x-request-id"

// maxRequestID bounds a client's own request id.
const maxRequestID = 64

type requestIDKey struct{}

// RequestID is the id of the request ctx belongs to ("" outside one).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// validRequestID accepts a client's id when it is 1 to 64 characters of
// letters, digits and . _ : -, so that it is safe in a log line, a header
// and a database column as it is; anything else is replaced.
func validRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for _, c := range []byte(id) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// requestIDOf is the id a request sent, if acceptable, else a new one.
func requestIDOf(sent string) string {
	if validRequestID(sent) {
		return sent
	}
	return rand.Text()
}

// callRequestID is a gRPC call's id: the one tap gave it, else the one its
// metadata carries (the REST gateway forwards the HTTP request's id in it),
// else a new one.
func callRequestID(ctx context.Context) string {
	if id := RequestID(ctx); id != "" {
		return id
	}
	md, _ := metadata.FromIncomingContext(ctx)
	return requestIDOf(first(md.Get(RequestIDHeader)))
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// withRequestInfo adds the request's id to an error answer as a
// google.rpc.RequestInfo detail, keeping the details it has.
func withRequestInfo(err error, id string) error {
	if err == nil {
		return nil
	}
	st := status.Convert(err)
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.RequestInfo); ok {
			return err
		}
	}
	with, derr := st.WithDetails(&errdetails.RequestInfo{RequestId: id})
	if derr != nil {
		return err
	}
	return with.Err()
}

// requestUnary gives each call its request id first of all: in its
// context (for the log and audit), in the answer's headers, and in an
// error answer's details.
func (s *Server) requestUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	id := callRequestID(ctx)
	ctx = withRequestID(ctx, id)
	grpc.SetHeader(ctx, metadata.Pairs(RequestIDHeader, id)) //nolint:errcheck // fails only once headers were sent, and none were
	resp, err := next(ctx, req)
	return resp, withRequestInfo(err, id)
}

func (s *Server) requestStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	id := callRequestID(ss.Context())
	ss.SetHeader(metadata.Pairs(RequestIDHeader, id)) //nolint:errcheck // as above
	err := next(srv, &idStream{ServerStream: ss, ctx: withRequestID(ss.Context(), id)})
	return withRequestInfo(err, id)
}

// idStream is a stream whose context carries its request id.
type idStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *idStream) Context() context.Context { return s.ctx }

// requestIDHandler adds the request id of a log call's context to its
// line, so every line logged for a request (the rpc line, its audit line,
// a warning on its way) names it.
type requestIDHandler struct{ slog.Handler }

// WithRequestIDs wraps a log handler so lines logged with a request's
// context carry its request_id.
func WithRequestIDs(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{h}
}

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
