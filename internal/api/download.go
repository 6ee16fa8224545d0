package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// reportDownloadPath serves a report as a file, for `curl -OJ` (issue 18):
// the gateway's BuildReport answers NDJSON of base64 chunks, which suits a
// client library, not a person with curl.
const reportDownloadPath = "/v1/reports:download"

// downloadReport answers GET reportDownloadPath?run_ids=…&kind=…&tin=…&npi=…
// with the report's bytes, its content type and its file name. It makes the
// BuildReport call over the in-process connection with the caller's key and
// request ids, as the gateway does, so the call is authorised and audited
// like any other; this handler only turns its stream into a body.
func downloadReport(conn *grpc.ClientConn) http.HandlerFunc {
	client := pb.NewReportServiceClient(conn)
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		req := &pb.BuildReportRequest{RunIds: q["run_ids"], Tin: q.Get("tin"), Npi: q.Get("npi")}
		if k := q.Get("kind"); k != "" {
			kind, ok := reportKindNamed(k)
			if !ok {
				httpError(w, r, status.Errorf(codes.InvalidArgument, "kind %q: kind must be %s (or their short names, e.g. physician)", k, enumNames(pb.ReportKind(0))))
				return
			}
			req.Kind = kind
		}
		stream, err := client.BuildReport(callContext(r), req)
		if err != nil {
			httpError(w, r, err)
			return
		}
		first, err := stream.Recv()
		if err != nil {
			httpError(w, r, err)
			return
		}
		if err := writeFile(w, first.GetFileName(), first.GetContentType(), first.GetChunk()); err != nil {
			return
		}
		for {
			m, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				// The status line is gone: cut the connection, so the client
				// sees a broken download, never a short file that looks whole.
				panic(http.ErrAbortHandler)
			}
			if _, err := w.Write(m.GetChunk()); err != nil {
				return
			}
		}
	}
}

// callContext carries the caller's key and request ids to a call over the
// in-process connection, as the gateway does, so it is authorised and
// audited (once) like every call.
func callContext(r *http.Request) context.Context {
	return metadata.NewOutgoingContext(r.Context(), metadata.Pairs(
		"authorization", r.Header.Get("Authorization"),
		requestHeader, r.Header.Get(gatewayRequestHeader),
		RequestIDHeader, r.Header.Get(RequestIDHeader)))
}

// writeFile starts an answer that is a file to save: its type and name,
// then its first bytes.
func writeFile(w http.ResponseWriter, name, contentType string, b []byte) error {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	_, err := w.Write(b)
	return err
}

// submissionDownloadPath serves a submission file as a file.
const submissionDownloadPath = "/v1/submissions:download"

// downloadSubmission answers GET submissionDownloadPath?run_ids=…&format=…
// &tin=…[&npi=…][&measurement_set=true] with the file BuildSubmission
// writes. A file that fails its own validation is not served as one: the
// answer is 422 with the validation report.
func downloadSubmission(conn *grpc.ClientConn) http.HandlerFunc {
	client := pb.NewSubmissionServiceClient(conn)
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		req := &pb.BuildSubmissionRequest{RunIds: q["run_ids"], Tin: q.Get("tin"), Npi: q.Get("npi"), MeasurementSet: q.Get("measurement_set") == "true"}
		if f := q.Get("format"); f != "" {
			v, ok := enumNamed(pb.SubmissionFormat_value, "SUBMISSION_FORMAT_", f)
			if !ok {
				httpError(w, r, status.Errorf(codes.InvalidArgument, "format %q: format must be %s (or their short names, e.g. qpp_json)", f, enumNames(pb.SubmissionFormat(0))))
				return
			}
			req.Format = pb.SubmissionFormat(v)
		}
		resp, err := client.BuildSubmission(callContext(r), req)
		if err != nil {
			httpError(w, r, err)
			return
		}
		if v := resp.GetValidation(); v != nil && !v.GetValid() {
			writeProto(w, http.StatusUnprocessableEntity, v)
			return
		}
		writeFile(w, resp.GetFileName(), resp.GetContentType(), resp.GetContent()) //nolint:errcheck
	}
}

// validateRaw lets POST /v1/submissions:validate take the file itself as the
// body (curl --data-binary @file), its name in ?file_name= and a year in
// ?year=; a JSON body goes to the gateway's route as before.
func validateRaw(conn *grpc.ClientConn, gw http.Handler) http.HandlerFunc {
	client := pb.NewSubmissionServiceClient(conn)
	return func(w http.ResponseWriter, r *http.Request) {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
			gw.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			httpError(w, r, status.Errorf(codes.InvalidArgument, "reading the file: %v", err))
			return
		}
		req := &pb.ValidateSubmissionRequest{Content: body, FileName: r.URL.Query().Get("file_name")}
		if y := r.URL.Query().Get("year"); y != "" {
			n, err := strconv.Atoi(y)
			if err != nil {
				httpError(w, r, status.Errorf(codes.InvalidArgument, "year %q is not a year", y))
				return
			}
			req.Year = int32(n)
		}
		resp, err := client.ValidateSubmission(callContext(r), req)
		if err != nil {
			httpError(w, r, err)
			return
		}
		writeProto(w, http.StatusOK, resp)
	}
}

// writeProto answers a message as the gateway writes it.
func writeProto(w http.ResponseWriter, code int, m proto.Message) {
	b, err := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(m)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"code":13,"message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(b) //nolint:errcheck
}

// enumNamed reads an enum value by its API name or its short name (the
// API name without prefix), in any case; the zero value is refused.
func enumNamed(values map[string]int32, prefix, s string) (int32, bool) {
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, prefix) {
		name = prefix + name
	}
	v, ok := values[name]
	return v, ok && v != 0
}

// reportKindNamed reads a report kind by its API name (REPORT_KIND_PHYSICIAN)
// or its short name (physician, worklist_csv), in any case.
func reportKindNamed(s string) (pb.ReportKind, bool) {
	v, ok := enumNamed(pb.ReportKind_value, "REPORT_KIND_", s)
	return pb.ReportKind(v), ok
}

// httpError answers err as the gateway does: the HTTP status of its code and
// a JSON body with code, message and the request id.
func httpError(w http.ResponseWriter, r *http.Request, err error) {
	st := status.Convert(err)
	writeStatus(w, r, runtime.HTTPStatusFromCode(st.Code()), st)
}

// writeStatus answers st with the HTTP status code.
func writeStatus(w http.ResponseWriter, r *http.Request, code int, st *status.Status) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"code": st.Code(), "message": st.Message(), "details": []any{ //nolint:errcheck
		map[string]string{"@type": "type.googleapis.com/google.rpc.RequestInfo", "requestId": RequestID(r.Context())}}})
}
