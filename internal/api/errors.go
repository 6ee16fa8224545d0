package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/intake"
	"github.com/liaison-registry/liaison/internal/store"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// fieldError is a client mistake in one request field.
type fieldError struct{ field, reason, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func invalid(field, reason, format string, args ...any) error {
	return &fieldError{field, reason, fmt.Sprintf(format, args...)}
}

// enumNames lists an enum's values as the API accepts them, by full name
// ("AGGREGATE_LEVEL_TIN, AGGREGATE_LEVEL_TIN_NPI or AGGREGATE_LEVEL_STRATUM"),
// leaving out the zero value, so an error message never names a value the
// API would refuse.
func enumNames(e protoreflect.Enum) string {
	vals := e.Descriptor().Values()
	var names []string
	for i := range vals.Len() {
		if v := vals.Get(i); v.Number() != 0 {
			names = append(names, string(v.Name()))
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// fieldErrors are several client mistakes in one request, each in its field.
type fieldErrors []*fieldError

func (e fieldErrors) Error() string {
	msg := e[0].Error()
	if len(e) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(e)-1)
	}
	return msg
}

// notFoundError names what was not found.
type notFoundError struct{ msg string }

func (e *notFoundError) Error() string { return e.msg }

func notFound(msg string) error { return &notFoundError{msg} }

// toStatus is the one place domain errors become gRPC statuses. Client
// mistakes get InvalidArgument with field details; database trouble gets
// Unavailable; anything else is Internal with the detail only in the log.
func toStatus(ctx context.Context, log *slog.Logger, err error, res *pb.IngestResult) error {
	var fe *fieldError
	var fes fieldErrors
	var nf *notFoundError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return withViolations(codes.InvalidArgument, fe.Error(), []*errdetails.BadRequest_FieldViolation{
			{Field: fe.field, Reason: fe.reason, Description: fe.msg},
		})
	case errors.As(err, &fes) && len(fes) > 0:
		v := make([]*errdetails.BadRequest_FieldViolation, len(fes))
		for i, fe := range fes {
			v[i] = &errdetails.BadRequest_FieldViolation{Field: fe.field, Reason: fe.reason, Description: fe.msg}
		}
		return withViolations(codes.InvalidArgument, fes.Error(), v)
	case errors.Is(err, intake.ErrRejected):
		var v []*errdetails.BadRequest_FieldViolation
		for _, r := range res.GetRejections() {
			v = append(v, &errdetails.BadRequest_FieldViolation{
				Field:       fmt.Sprintf("records[%d].%s", r.Index, r.Field),
				Reason:      r.Rule,
				Description: fmt.Sprintf("%s %q (TIN %s): %s", r.RecordType, r.SourceId, r.Tin, r.Message),
			})
		}
		return withViolations(codes.InvalidArgument, fmt.Sprintf("%d of %d records are invalid; nothing was stored (send mode INGEST_MODE_PARTIAL to store the valid ones)", res.GetRejected(), res.GetReceived()), v)
	case errors.Is(err, evaluation.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, evaluation.ErrBusy):
		return status.Error(codes.ResourceExhausted, err.Error())
	case errors.As(err, &nf):
		return status.Error(codes.NotFound, nf.msg)
	case errors.Is(err, evaluation.ErrNotFound):
		// The same words whether the run does not exist or is another tenant's.
		return status.Error(codes.NotFound, "no such evaluation run")
	case errors.Is(err, store.ErrNotFound):
		return status.Error(codes.NotFound, "not found")
	case errors.Is(err, store.ErrLastOperator):
		return status.Error(codes.FailedPrecondition, "this is the last active operator key: create another operator key first, or nobody could manage keys and practices again")
	case errors.Is(err, store.ErrConflict):
		return status.Error(codes.Aborted, "the request raced with a concurrent one and was rolled back; nothing was stored, send it again")
	case errors.Is(err, store.ErrUnavailable):
		log.WarnContext(ctx, "database unavailable", "err", err)
		return status.Error(codes.Unavailable, "the database is unavailable; retry later")
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, "request cancelled")
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, "deadline exceeded")
	}
	if s, ok := status.FromError(err); ok && s.Code() != codes.Unknown {
		return err // already a status, e.g. from a stream's Recv
	}
	log.ErrorContext(ctx, "internal error", "err", err)
	return status.Error(codes.Internal, "internal error")
}

func withViolations(code codes.Code, msg string, v []*errdetails.BadRequest_FieldViolation) error {
	st, err := status.New(code, msg).WithDetails(&errdetails.BadRequest{FieldViolations: v})
	if err != nil {
		return status.Error(code, msg)
	}
	return st.Err()
}
