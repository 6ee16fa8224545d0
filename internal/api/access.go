package api

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/store"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// accessServer implements AccessService: keys and the audit log.
type accessServer struct {
	pb.UnimplementedAccessServiceServer
	store *store.Store
	auth  *authenticator
	audit *auditor
	log   *slog.Logger
}

var roles = map[pb.Role]access.Role{
	pb.Role_ROLE_OPERATOR: access.Operator, pb.Role_ROLE_PRACTICE: access.Practice, pb.Role_ROLE_PHYSICIAN: access.Physician,
}

func roleMsg(r access.Role) pb.Role {
	for k, v := range roles {
		if v == r {
			return k
		}
	}
	return pb.Role_ROLE_UNSPECIFIED
}

func (s *accessServer) CreateKey(ctx context.Context, req *pb.CreateKeyRequest) (*pb.CreateKeyResponse, error) {
	k, err := checkKeyRequest(req, time.Now())
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	stored, secret, err := CreateKey(ctx, s.store, k)
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	return &pb.CreateKeyResponse{Key: keyMsg(stored), Secret: secret}, nil
}

// CreateKey stores a new key and returns it with its token, the only time
// the token exists outside the caller.
func CreateKey(ctx context.Context, st *store.Store, k store.APIKey) (store.APIKey, string, error) {
	id, token, salt, hash, err := access.NewToken()
	if err != nil {
		return k, "", err
	}
	k.KeyID, k.Salt, k.Hash = id, salt, hash
	k, err = st.CreateKey(ctx, k)
	return k, token, err
}

func checkKeyRequest(req *pb.CreateKeyRequest, now time.Time) (store.APIKey, error) {
	k := store.APIKey{Principal: access.Principal{Role: roles[req.GetRole()], TIN: req.GetTin(), NPI: req.GetNpi()}, Label: req.GetLabel()}
	if k.Role == "" {
		return k, invalid("role", "role.required", "role must be %s", enumNames(pb.Role(0)))
	}
	if err := k.Check(); err != nil {
		return k, invalid("role", "role.scope", "%v", err)
	}
	if k.TIN != "" && !clinical.ValidTIN(k.TIN) {
		return k, invalid("tin", "tin.format", "TIN %q must be exactly 9 digits", k.TIN)
	}
	if k.NPI != "" && !clinical.ValidNPI(k.NPI) {
		return k, invalid("npi", "npi.check_digit", "NPI %q is not a valid NPI (10 digits with the Luhn check digit)", k.NPI)
	}
	if len(k.Label) > 200 {
		return k, invalid("label", "label.length", "label is %d characters; at most 200", len(k.Label))
	}
	if strings.IndexByte(k.Label, 0) >= 0 {
		return k, invalid("label", "text.nul", "label contains a NUL byte (U+0000), which no text field may hold")
	}
	if e := req.GetExpiresAt(); e != "" {
		t, err := time.Parse(time.RFC3339, e)
		if err != nil {
			return k, invalid("expires_at", "expires_at.format", "expires_at %q is not an RFC 3339 instant, e.g. 2027-01-01T00:00:00Z", e)
		}
		if !t.After(now) {
			return k, invalid("expires_at", "expires_at.past", "expires_at %s has already passed", e)
		}
		k.ExpiresAt = t
	}
	return k, nil
}

func (s *accessServer) ListKeys(ctx context.Context, req *pb.ListKeysRequest) (*pb.ListKeysResponse, error) {
	keys, err := s.store.ListKeys(ctx, req.GetAll())
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	resp := &pb.ListKeysResponse{}
	for _, k := range keys {
		resp.Keys = append(resp.Keys, keyMsg(k))
	}
	return resp, nil
}

func (s *accessServer) RevokeKey(ctx context.Context, req *pb.RevokeKeyRequest) (*pb.RevokeKeyResponse, error) {
	k, err := s.store.RevokeKey(ctx, req.GetId())
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	s.auth.revoked(k.KeyID)
	return &pb.RevokeKeyResponse{Key: keyMsg(k)}, nil
}

func (s *accessServer) ListAuditEvents(ctx context.Context, req *pb.ListAuditEventsRequest) (*pb.ListAuditEventsResponse, error) {
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	f := store.AuditFilter{KeyID: req.GetKeyId(), TIN: req.GetTin(), Subject: req.GetSubject(), RequestID: req.GetRequestId(), Limit: size + 1}
	if t := req.GetPageToken(); t != "" {
		if f.Before, err = strconv.ParseInt(t, 10, 64); err != nil || f.Before <= 0 {
			return nil, toStatus(ctx, s.log, invalid("page_token", "page_token.invalid", "page_token was not returned by ListAuditEvents"), nil)
		}
	}
	s.audit.Flush(ctx) // what happened up to this call is listed
	events, err := s.store.ListAudit(ctx, f)
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	resp := &pb.ListAuditEventsResponse{}
	if len(events) > size {
		events = events[:size]
		resp.NextPageToken = strconv.FormatInt(events[size-1].ID, 10)
	}
	for _, e := range events {
		resp.Events = append(resp.Events, &pb.AuditEvent{Id: e.ID, At: rfc3339(e.At), KeyId: e.KeyID, Role: roleMsg(e.Role),
			Method: e.Method, Tin: e.TIN, Npi: e.NPI, Code: e.Code, Items: e.Items, Subject: e.Subject, RequestId: e.RequestID})
	}
	return resp, nil
}

func keyMsg(k store.APIKey) *pb.ApiKey {
	return &pb.ApiKey{Id: k.KeyID, Role: roleMsg(k.Role), Tin: k.TIN, Npi: k.NPI, Label: k.Label,
		CreatedAt: rfc3339(k.CreatedAt), ExpiresAt: rfc3339(k.ExpiresAt), RevokedAt: rfc3339(k.RevokedAt), LastUsedAt: rfc3339(k.LastUsed)}
}
