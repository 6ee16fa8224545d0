package api

import (
	"context"
	"encoding/json"
	"io"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/liaison-registry/liaison/internal/schema"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// A request the API schema does not fully know is refused, over gRPC and
// REST alike: an unknown field or enum value anywhere in it is
// INVALID_ARGUMENT with a field violation at its path (rules field.unknown
// and enum.unknown), so nothing a client meant is silently dropped. Ingest
// records are the exception: ingest rejects them one by one, like any
// other invalid record (ingest.Convert), so a partial request still stores
// the valid ones.
//
// Over REST the gateway decodes with schema.UnmarshalJSON, which keeps
// unknown JSON keys and enum names in the message (where grpc-gateway's
// default drops them) for these same checks to find on the server side.

// isRecord reports the ingest record type, which the checks here leave to ingest.
func isRecord(md protoreflect.MessageDescriptor) bool {
	return md.FullName() == recordName
}

var recordName = (&pb.Record{}).ProtoReflect().Descriptor().FullName()

// known returns a request's unknown fields and enum values as field errors.
func known(req any) error {
	m, ok := req.(proto.Message)
	if !ok {
		return nil
	}
	problems := schema.Check(m.ProtoReflect(), isRecord)
	if len(problems) == 0 {
		return nil
	}
	errs := make(fieldErrors, len(problems))
	for i, p := range problems {
		errs[i] = &fieldError{field: p.Path, reason: p.Rule, msg: p.Message}
	}
	return errs
}

// checked reports the methods whose requests are checked: Liaison's own,
// not health checks or reflection, whose clients may be newer than the
// server's copy of those services.
func checked(method string) bool { return strings.HasPrefix(method, "/liaison.v1.") }

func (s *Server) knownUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if checked(info.FullMethod) {
		if err := known(req); err != nil {
			return nil, toStatus(ctx, s.log, err, nil)
		}
	}
	return next(ctx, req)
}

func (s *Server) knownStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	if !checked(info.FullMethod) {
		return next(srv, ss)
	}
	return next(srv, &knownStream{ServerStream: ss, s: s})
}

// knownStream checks each message a stream receives.
type knownStream struct {
	grpc.ServerStream
	s *Server
}

func (k *knownStream) RecvMsg(m any) error {
	if err := k.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	if err := known(m); err != nil {
		return toStatus(k.Context(), k.s.log, err, nil)
	}
	return nil
}

// restJSON is the gateway's marshaler: grpc-gateway's default for answers
// (every field written, unset ones too), and schema.UnmarshalJSON for
// request bodies.
type restJSON struct{ runtime.JSONPb }

func newRESTJSON() runtime.Marshaler {
	return &runtime.HTTPBodyMarshaler{Marshaler: &restJSON{runtime.JSONPb{
		MarshalOptions:   protojson.MarshalOptions{EmitUnpopulated: true},
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true}, // only for values that are not messages
	}}}
}

func (j *restJSON) Unmarshal(data []byte, v any) error {
	if m, ok := v.(proto.Message); ok {
		return schema.UnmarshalJSON(repairedJSON(data, m), m)
	}
	return j.JSONPb.Unmarshal(data, v)
}

// carriesRecords reports the requests whose records are checked one by
// one: a string that is not UTF-8 in one of them is that record's
// rejection (text.utf8), not a refusal of the whole request.
func carriesRecords(m any) bool {
	switch m.(type) {
	case *pb.IngestRequest, *pb.IngestStreamRequest:
		return true
	}
	return false
}

// repairedJSON marks the bytes that are not UTF-8 in a records request
// (schema.InvalidUTF8), so that it decodes and the record holding them is
// rejected alone; other requests are decoded as sent.
func repairedJSON(data []byte, m proto.Message) []byte {
	if carriesRecords(m) {
		data, _ = schema.RepairJSONUTF8(data)
	}
	return data
}

// NewDecoder reads one JSON value per Decode, as grpc-gateway's does (a
// client stream's body is a sequence of them).
func (j *restJSON) NewDecoder(r io.Reader) runtime.Decoder {
	d := json.NewDecoder(r)
	other := runtime.DecoderWrapper{Decoder: d, UnmarshalOptions: j.UnmarshalOptions}
	return runtime.DecoderFunc(func(v any) error {
		m, ok := v.(proto.Message)
		if !ok {
			return other.Decode(v)
		}
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			return err
		}
		return schema.UnmarshalJSON(repairedJSON(raw, m), m)
	})
}

// recordsCodec is gRPC's protobuf codec, except that a records request
// whose strings are not all UTF-8 (which protobuf refuses for the whole
// message) is decoded with those strings marked, for the records holding
// them to be rejected alone.
type recordsCodec struct{ encoding.CodecV2 }

func (c recordsCodec) Unmarshal(data mem.BufferSlice, v any) error {
	err := c.CodecV2.Unmarshal(data, v)
	if err == nil || !carriesRecords(v) {
		return err
	}
	m := v.(proto.Message)
	fixed, changed := schema.RepairUTF8(data.Materialize(), m.ProtoReflect().Descriptor())
	if !changed {
		return err
	}
	proto.Reset(m)
	return proto.Unmarshal(fixed, m)
}
