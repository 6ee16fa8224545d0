package api

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// The services below are part of API v1 but not built yet. Each RPC answers
// UNIMPLEMENTED saying what is missing, so clients can code against the
// surface now.

func pending(rpc, what string) error {
	return status.Errorf(codes.Unimplemented, "%s is not available yet: %s", rpc, what)
}

const (
	submissionWork = "writing submission files needs evaluation runs, which are still being built"
	reportWork     = "performance reports are still being built"
)

func (submissionServer) BuildSubmission(context.Context, *pb.BuildSubmissionRequest) (*pb.BuildSubmissionResponse, error) {
	return nil, pending("SubmissionService.BuildSubmission", submissionWork)
}

type reportServer struct {
	pb.UnimplementedReportServiceServer
}

func (reportServer) BuildReport(*pb.BuildReportRequest, grpc.ServerStreamingServer[pb.BuildReportResponse]) error {
	return pending("ReportService.BuildReport", reportWork)
}
