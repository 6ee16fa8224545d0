package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// A request missing an enum is told the values by the names the API
// accepts: the message's names, sent back as they are, get past the check.
func TestEnumErrorsNameValuesAsTheAPIAcceptsThem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func() error
		want string
	}{
		{"aggregate level", func() error {
			_, err := e.evaluations().ListAggregates(ctx, &pb.ListAggregatesRequest{RunId: "00000000-0000-0000-0000-000000000000"})
			return err
		}, "level must be AGGREGATE_LEVEL_TIN, AGGREGATE_LEVEL_TIN_NPI or AGGREGATE_LEVEL_STRATUM"},
		{"key role", func() error {
			_, err := pb.NewAccessServiceClient(e.conn).CreateKey(ctx, &pb.CreateKeyRequest{})
			return err
		}, "role must be ROLE_OPERATOR, ROLE_PRACTICE or ROLE_PHYSICIAN"},
		{"report kind", func() error {
			s, err := pb.NewReportServiceClient(e.conn).BuildReport(ctx, &pb.BuildReportRequest{RunIds: []string{"00000000-0000-0000-0000-000000000000"}, Tin: "123456789"})
			if err == nil {
				_, err = s.Recv()
			}
			return err
		}, "kind must be REPORT_KIND_PHYSICIAN, REPORT_KIND_PRACTICE or REPORT_KIND_WORKLIST_CSV"},
	} {
		err := tc.call()
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(status.Convert(err).Message(), tc.want) {
			t.Errorf("%s: %v, want InvalidArgument saying %q", tc.name, err, tc.want)
		}
	}
	// Over REST, the names in the message are the ones the query accepts.
	const path = "/v1/evaluations/00000000-0000-0000-0000-000000000000/aggregates"
	if code, body := e.rest(http.MethodGet, path, nil); code != http.StatusBadRequest || !strings.Contains(body["message"].(string), "AGGREGATE_LEVEL_TIN_NPI") {
		t.Errorf("REST without a level: %d %v", code, body)
	}
	if code, body := e.rest(http.MethodGet, path+"?level=AGGREGATE_LEVEL_TIN_NPI", nil); code == http.StatusBadRequest {
		t.Errorf("REST with the level the message names: %d %v", code, body)
	}
}
