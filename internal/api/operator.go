package api

import (
	"net/http"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/store"
)

// OperatorOnly serves next only to requests that present an operator key
// (authorization: Bearer), checked before next does any work: the
// /metrics endpoint when it is reachable beyond this machine. A refusal is
// audited, as any refused call is; a scrape that passes is not (one every
// few seconds would bury the audit log).
func (s *Server) OperatorOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := requestIDOf(r.Header.Get(RequestIDHeader))
		w.Header().Set(RequestIDHeader, reqID)
		ctx := withRequestID(r.Context(), reqID)
		token := httpBearer(r)
		p, err := s.auth.authenticate(ctx, token, hostOf(r.RemoteAddr))
		if err == nil {
			err = p.Require("read the metrics", access.Operator)
			if err != nil {
				err = status.Error(codes.PermissionDenied, err.Error())
			}
		} else {
			err = authStatus(err)
		}
		if err != nil {
			keyID, _, _ := access.ParseToken(token)
			s.audit.record(ctx, p, store.AuditEvent{Method: r.Method + " " + r.URL.Path, KeyID: keyID}, time.Now(), err)
			code := http.StatusUnauthorized
			switch status.Code(err) {
			case codes.PermissionDenied:
				code = http.StatusForbidden
			case codes.ResourceExhausted:
				code = http.StatusTooManyRequests
			case codes.Unavailable:
				code = http.StatusServiceUnavailable
			default:
				w.Header().Set("WWW-Authenticate", "Bearer")
			}
			http.Error(w, status.Convert(err).Message()+" (request "+reqID+")", code)
			return
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}
