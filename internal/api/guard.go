package api

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/metrics"
	"github.com/liaison-registry/liaison/internal/store"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// guard is the one place access is enforced: it authenticates the key,
// applies the method's rule from policy (role, then scope), bounds the
// call's time, and audits the outcome. Handlers see only calls that passed,
// with the caller in their context (access.From).
type guard struct {
	auth    *authenticator
	audit   *auditor
	log     *slog.Logger
	metrics *metrics.Set // nil: not counted
	// requests are the REST requests (by the id keyFirst gave them) that
	// reached a call here and were audited by it.
	requests sync.Map
}

// requestHeader carries a REST request's id to the call it makes (the
// gateway forwards Grpc-Metadata-* headers as metadata).
const requestHeader = "liaison-request"

// seen notes that the REST request a call belongs to was audited here.
// Only the in-process gateway's calls carry one (any other client could
// send the header, and fill the map).
func (g *guard) seen(ctx context.Context, md metadata.MD) {
	if ids := md.Get(requestHeader); len(ids) > 0 && clientOf(ctx) == "" {
		g.requests.Store(ids[0], true)
	}
}

// open methods need no key: health checks and reflection carry no data.
func open(method string) bool {
	return strings.HasPrefix(method, "/grpc.health.v1.") || strings.HasPrefix(method, "/grpc.reflection.")
}

// tapped carries the caller tap authenticated into the call's context.
type tapped struct{}

// tap checks the key from a call's headers before its message is read
// (grpc.InTapHandle): a call without a valid key is refused without its
// body being received into memory or decoded. It runs on the connection's
// reader, so it does no more than authenticate does: a map lookup for a
// known token, a bounded lookup and slow hash for a new one.
func (g *guard) tap(ctx context.Context, info *tap.Info) (context.Context, error) {
	id := requestIDOf(first(info.Header.Get(RequestIDHeader)))
	ctx = withRequestID(ctx, id)
	if open(info.FullMethodName) {
		return ctx, nil
	}
	token := bearerOf(info.Header)
	p, err := g.auth.authenticate(ctx, token, clientOf(ctx))
	if err == nil {
		return context.WithValue(ctx, tapped{}, p), nil
	}
	if refused := refusal(err); refused != nil {
		keyID, _, _ := access.ParseToken(token)
		g.audit.record(ctx, p, store.AuditEvent{Method: info.FullMethodName, KeyID: keyID}, time.Now(), refused)
		g.metrics.RefusedAtDoor(status.Code(refused).String())
		g.seen(ctx, info.Header)
		return ctx, withRequestInfo(refused, id)
	}
	return ctx, nil
}

// refusal is the answer a failed authentication gets at the door (tap,
// keyFirst), or nil when the database could not say: the call goes on and
// the guard answers UNAVAILABLE, as for any call.
func refusal(err error) error {
	if err = authStatus(err); status.Code(err) == codes.Unavailable {
		return nil
	}
	return err
}

// hostOf is an address without its port.
func hostOf(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// clientOf names a call's client by its address without the port; calls of
// the in-process REST gateway are "": their client was counted at the door
// (keyFirst), and all REST traffic shares that one connection.
func clientOf(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil || p.Addr.Network() != "tcp" {
		return ""
	}
	return hostOf(p.Addr.String())
}

// authStatus is the answer to an authentication error: Unauthenticated for
// a bad key, ResourceExhausted when too many are being checked, Unavailable
// when the database is.
func authStatus(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errUnauthenticated):
		return status.Error(codes.Unauthenticated, err.Error())
	case errors.Is(err, errBusy), errors.Is(err, errTooManyFailures):
		return status.Error(codes.ResourceExhausted, err.Error())
	}
	return status.Error(codes.Unavailable, "cannot check the API key now: the database is unavailable")
}

// admit authenticates a call (or takes the caller tap authenticated) and
// returns the caller and the method's rule.
func (g *guard) admit(ctx context.Context, method string) (access.Principal, rule, error) {
	p, ok := ctx.Value(tapped{}).(access.Principal)
	if !ok {
		var err error
		if p, err = g.auth.authenticate(ctx, bearer(ctx), clientOf(ctx)); err != nil {
			if refused := refusal(err); refused != nil {
				return p, rule{}, refused
			}
			return p, rule{}, toStatus(ctx, g.log, err, nil)
		}
	}
	r, err := allowed(p, method, "call "+method)
	return p, r, err
}

// allowed is method's rule when p's role may use it (what names the act
// in a refusal): the one role check of calls and console pages.
func allowed(p access.Principal, method, what string) (rule, error) {
	r, ok := policy[method]
	if !ok {
		return r, status.Errorf(codes.PermissionDenied, "%s has no access rule; it is not served", method)
	}
	if err := p.Require(what, r.roles...); err != nil {
		return r, status.Error(codes.PermissionDenied, err.Error())
	}
	return r, nil
}

func deniedStatus(err error) error {
	var d *access.Denied
	if errors.As(err, &d) {
		return status.Error(codes.PermissionDenied, d.Reason)
	}
	return err
}

func (g *guard) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if open(info.FullMethod) {
		return next(ctx, req)
	}
	start := time.Now()
	if md, ok := metadata.FromIncomingContext(ctx); ok {
		g.seen(ctx, md)
	}
	slot := &store.AuditSlot{Event: store.AuditEvent{Method: info.FullMethod, Subject: subjectOf(req), RequestID: RequestID(ctx)}}
	ev := &slot.Event
	p, r, err := g.admit(ctx, info.FullMethod)
	var resp any
	if err == nil {
		ev.TIN, ev.NPI, err = r.scope(p, req)
		err = deniedStatus(err)
	}
	if err != nil {
		// Denied: say which key was presented for which practice.
		ev.KeyID, ev.TIN = presentedKey(ctx, p), askedTIN(req, ev.TIN)
		g.audit.record(ctx, p, *ev, start, err)
		return nil, err
	}
	cctx, cancel := context.WithTimeout(store.WithAudit(access.With(ctx, p), slot), unaryDeadline)
	resp, err = next(cctx, req)
	cancel()
	ev.Items = itemsOf(resp)
	switch {
	case slot.Written: // its event committed with the write: the log line only
		g.audit.logEvent(ctx, g.audit.complete(p, *ev, start, err))
		return resp, err
	case err != nil:
		g.audit.record(ctx, p, *ev, start, err)
		return resp, err
	}
	// What was read leaves the server only once its reading is on record.
	if err := g.audit.durable(ctx, p, *ev, start); err != nil {
		return nil, err
	}
	return resp, nil
}

func (g *guard) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	if open(info.FullMethod) {
		return next(srv, ss)
	}
	start := time.Now()
	if md, ok := metadata.FromIncomingContext(ss.Context()); ok {
		g.seen(ss.Context(), md)
	}
	slot := &store.AuditSlot{Event: store.AuditEvent{Method: info.FullMethod, RequestID: RequestID(ss.Context())}}
	p, r, err := g.admit(ss.Context(), info.FullMethod)
	gs := &guardedStream{ServerStream: ss, p: p, rule: r, slot: slot, g: g, start: start}
	if err == nil {
		ctx, cancel := context.WithTimeout(store.WithAudit(access.With(ss.Context(), p), slot), streamDeadline)
		gs.ctx = ctx
		err = next(srv, gs)
		cancel()
	} else {
		slot.Event.KeyID = presentedKey(ss.Context(), p)
	}
	if !gs.recorded && !slot.Written {
		g.audit.record(ss.Context(), p, slot.Event, start, err)
	}
	return err
}

// presentedKey is the caller's key id, or for a call that presented no
// valid key, the id its token names ("" when it names none).
func presentedKey(ctx context.Context, p access.Principal) string {
	if p.KeyID != "" {
		return p.KeyID
	}
	id, _, _ := access.ParseToken(bearer(ctx))
	return id
}

// askedTIN is the practice a denied request asked for.
func askedTIN(req any, scoped string) string {
	if scoped != "" {
		return scoped
	}
	if r, ok := req.(interface{ GetTin() string }); ok {
		return r.GetTin()
	}
	return ""
}

// subjectOf names what a request reads, for "who read patient X" or "who
// read run R": a patient by TIN and source id, runs by id.
func subjectOf(req any) string {
	switch r := req.(type) {
	case *pb.GetPatientRequest:
		return "patient:" + r.GetTin() + "/" + r.GetSourceId()
	case *pb.GetEvaluationRequest:
		return "run:" + r.GetRunId()
	case *pb.ListCasesRequest:
		return "run:" + r.GetRunId()
	case *pb.ListAggregatesRequest:
		return "run:" + r.GetRunId()
	case *pb.BuildReportRequest:
		return "run:" + strings.Join(r.GetRunIds(), ",")
	case *pb.BuildSubmissionRequest:
		return "run:" + strings.Join(r.GetRunIds(), ",")
	}
	return ""
}

// guardedStream scopes each received message, names what it reads, and
// records the call durably before its first answer leaves.
type guardedStream struct {
	grpc.ServerStream
	ctx      context.Context
	p        access.Principal
	rule     rule
	slot     *store.AuditSlot
	g        *guard
	start    time.Time
	recorded bool
}

func (s *guardedStream) Context() context.Context { return s.ctx }

func (s *guardedStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	tin, npi, err := s.rule.scope(s.p, m)
	if err != nil {
		return deniedStatus(err)
	}
	ev := &s.slot.Event
	ev.TIN, ev.NPI = tin, npi
	if sub := subjectOf(m); sub != "" {
		ev.Subject = sub
	}
	return nil
}

func (s *guardedStream) SendMsg(m any) error {
	ev := &s.slot.Event
	if _, chunk := m.(*pb.BuildReportResponse); chunk {
		ev.Items = 1 // one file, however many pieces
	} else {
		ev.Items += itemsOf(m)
	}
	if !s.recorded && !s.slot.Written {
		if err := s.g.audit.durable(s.ServerStream.Context(), s.p, *ev, s.start); err != nil {
			return err
		}
		s.recorded = true
	}
	return s.ServerStream.SendMsg(m)
}

// itemsOf counts what a response carries: records stored by an ingest,
// else the entries of its first list, else one.
func itemsOf(resp any) int64 {
	switch r := resp.(type) {
	case nil:
		return 0
	case *pb.IngestResponse:
		return r.GetResult().GetStored()
	case *pb.IngestStreamResponse:
		return r.GetResult().GetStored()
	case *pb.GetPatientResponse:
		return 1 // one patient, however many records
	}
	m, ok := resp.(proto.Message)
	if !ok {
		return 0
	}
	msg := m.ProtoReflect()
	fields := msg.Descriptor().Fields()
	for i := range fields.Len() {
		if f := fields.Get(i); f.Cardinality() == protoreflect.Repeated && !f.IsMap() {
			return int64(msg.Get(f).List().Len())
		}
	}
	return 1
}

// auditor writes audit events to the database in batches, off the call's
// path, and logs each as a line with no patient data. Events wait in memory
// while the database is down (up to maxPending; beyond that the log line is
// the only record, and a warning says how many were not stored).
type auditor struct {
	store *store.Store
	log   *slog.Logger

	flushing sync.Mutex // one flush at a time: Flush returns only once what was pending is stored
	mu       sync.Mutex
	pending  []store.AuditEvent
	dropped  int
	waiting  []durableWrite // answered calls waiting for their event to be written
}

// Every call has a deadline: the client's, or these at most. Streams carry
// whole imports and reports, so theirs is long.
const (
	unaryDeadline  = 2 * time.Minute
	streamDeadline = time.Hour
)

const (
	auditFlushEvery = 200 * time.Millisecond
	maxPending      = 100_000
)

func newAuditor(st *store.Store, log *slog.Logger) *auditor {
	return &auditor{store: st, log: log}
}

// durable stores an answered call's event before the answer leaves; if it
// cannot, the answer does not leave either (UNAVAILABLE). Calls answered
// at the same moment share one write (group commit): one COPY and one
// flush of the log for all of them, not one each.
func (a *auditor) durable(ctx context.Context, p access.Principal, ev store.AuditEvent, start time.Time) error {
	ev = a.complete(p, ev, start, nil)
	ev.RequestID = cmp.Or(ev.RequestID, RequestID(ctx))
	a.logEvent(ctx, ev)
	w := durableWrite{ev: ev, done: make(chan error, 1)}
	a.mu.Lock()
	a.waiting = append(a.waiting, w)
	lead := len(a.waiting) == 1
	a.mu.Unlock()
	if lead {
		// The first waiter writes, after a moment for others to join.
		time.Sleep(groupCommitWait)
		a.writeWaiting(ctx)
	}
	if err := <-w.done; err != nil {
		a.log.Error("recording an audit event; the answer is withheld", "method", ev.Method, "err", err)
		return status.Error(codes.Unavailable, "the call could not be recorded in the audit log, so its answer is withheld; retry")
	}
	return nil
}

// groupCommitWait is how long the first of a group of answered calls waits
// for others to share its audit write.
const groupCommitWait = time.Millisecond

// durableWrite is an event waiting to be written before its answer leaves.
type durableWrite struct {
	ev   store.AuditEvent
	done chan error
}

// writeWaiting writes every waiting event in one COPY and tells each waiter
// how it went.
func (a *auditor) writeWaiting(ctx context.Context) {
	a.mu.Lock()
	group := a.waiting
	a.waiting = nil
	a.mu.Unlock()
	events := make([]store.AuditEvent, len(group))
	for i, w := range group {
		events[i] = w.ev
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	err := a.store.AppendAudit(wctx, events)
	cancel()
	for _, w := range group {
		w.done <- err
	}
}

// record queues the event of a call that returned no data (denied, refused,
// failed): written in the next batch.
func (a *auditor) record(ctx context.Context, p access.Principal, ev store.AuditEvent, start time.Time, err error) {
	ev = a.complete(p, ev, start, err)
	ev.RequestID = cmp.Or(ev.RequestID, RequestID(ctx))
	a.logEvent(ctx, ev)
	a.mu.Lock()
	if len(a.pending) < maxPending {
		a.pending = append(a.pending, ev)
	} else {
		a.dropped++
	}
	a.mu.Unlock()
}

// complete fills in who called, when, and how the call ended.
func (a *auditor) complete(p access.Principal, ev store.AuditEvent, start time.Time, err error) store.AuditEvent {
	ev.At, ev.KeyID, ev.Role, ev.Code = start, cmp.Or(p.KeyID, ev.KeyID), p.Role, status.Code(err).String()
	return ev
}

// logEvent writes the event as one log line (no patient data: a subject
// is an id the caller sent); the log handler adds the request id from ctx
// (WithRequestIDs).
func (a *auditor) logEvent(ctx context.Context, ev store.AuditEvent) {
	a.log.LogAttrs(ctx, slog.LevelInfo, "audit", slog.String("key_id", ev.KeyID), slog.String("role", string(ev.Role)),
		slog.String("method", ev.Method), slog.String("tin", ev.TIN), slog.String("npi", ev.NPI),
		slog.String("subject", ev.Subject), slog.String("code", ev.Code), slog.Int64("items", ev.Items))
}

// run flushes until ctx ends, then flushes what is left once more.
func (a *auditor) run(ctx context.Context) {
	t := time.NewTicker(auditFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			a.flush(fctx)
			cancel()
			return
		case <-t.C:
			a.flush(ctx)
		}
	}
}

func (a *auditor) flush(ctx context.Context) {
	a.flushing.Lock()
	defer a.flushing.Unlock()
	a.mu.Lock()
	batch, dropped := a.pending, a.dropped
	a.pending, a.dropped = nil, 0
	a.mu.Unlock()
	if dropped > 0 {
		a.log.Warn("audit events not stored: the database was unavailable too long; the audit log lines still hold them", "events", dropped)
	}
	if len(batch) == 0 {
		return
	}
	if err := a.store.AppendAudit(ctx, batch); err != nil {
		a.mu.Lock()
		a.pending = append(batch, a.pending...)
		if over := len(a.pending) - maxPending; over > 0 {
			a.pending, a.dropped = a.pending[over:], a.dropped+over
		}
		a.mu.Unlock()
		a.log.Warn("storing audit events; will retry", "events", len(batch), "err", err)
	}
}

// Flush stores pending events now (tests read the table right after a call).
func (a *auditor) Flush(ctx context.Context) { a.flush(ctx) }
