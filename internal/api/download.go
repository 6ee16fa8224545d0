package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

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
		ctx := metadata.NewOutgoingContext(r.Context(), metadata.Pairs(
			"authorization", r.Header.Get("Authorization"),
			requestHeader, r.Header.Get(gatewayRequestHeader),
			RequestIDHeader, r.Header.Get(RequestIDHeader)))
		stream, err := client.BuildReport(ctx, req)
		if err != nil {
			httpError(w, r, err)
			return
		}
		first, err := stream.Recv()
		if err != nil {
			httpError(w, r, err)
			return
		}
		w.Header().Set("Content-Type", first.GetContentType())
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": first.GetFileName()}))
		if _, err := w.Write(first.GetChunk()); err != nil {
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

// reportKindNamed reads a report kind by its API name (REPORT_KIND_PHYSICIAN)
// or its short name (physician, worklist_csv), in any case.
func reportKindNamed(s string) (pb.ReportKind, bool) {
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "REPORT_KIND_") {
		name = "REPORT_KIND_" + name
	}
	v, ok := pb.ReportKind_value[name]
	return pb.ReportKind(v), ok && v != 0
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
