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
	engineWork     = "the measure engine and versioned specs are still being built"
	evaluationWork = "server-side evaluation runs are still being built"
	submissionWork = "writing submission files needs evaluation runs, which are still being built"
	reportWork     = "performance reports are still being built"
)

type measureServer struct {
	pb.UnimplementedMeasureServiceServer
}

func (measureServer) ListMeasures(context.Context, *pb.ListMeasuresRequest) (*pb.ListMeasuresResponse, error) {
	return nil, pending("MeasureService.ListMeasures", engineWork)
}

func (measureServer) GetMeasure(context.Context, *pb.GetMeasureRequest) (*pb.GetMeasureResponse, error) {
	return nil, pending("MeasureService.GetMeasure", engineWork)
}

type evaluationServer struct {
	pb.UnimplementedEvaluationServiceServer
}

func (evaluationServer) StartEvaluation(context.Context, *pb.StartEvaluationRequest) (*pb.StartEvaluationResponse, error) {
	return nil, pending("EvaluationService.StartEvaluation", evaluationWork)
}

func (evaluationServer) GetEvaluation(context.Context, *pb.GetEvaluationRequest) (*pb.GetEvaluationResponse, error) {
	return nil, pending("EvaluationService.GetEvaluation", evaluationWork)
}

func (evaluationServer) ListEvaluations(context.Context, *pb.ListEvaluationsRequest) (*pb.ListEvaluationsResponse, error) {
	return nil, pending("EvaluationService.ListEvaluations", evaluationWork)
}

func (evaluationServer) ListAggregates(context.Context, *pb.ListAggregatesRequest) (*pb.ListAggregatesResponse, error) {
	return nil, pending("EvaluationService.ListAggregates", evaluationWork)
}

func (evaluationServer) ListCases(context.Context, *pb.ListCasesRequest) (*pb.ListCasesResponse, error) {
	return nil, pending("EvaluationService.ListCases", evaluationWork)
}

func (submissionServer) BuildSubmission(context.Context, *pb.BuildSubmissionRequest) (*pb.BuildSubmissionResponse, error) {
	return nil, pending("SubmissionService.BuildSubmission", submissionWork)
}

type reportServer struct {
	pb.UnimplementedReportServiceServer
}

func (reportServer) BuildReport(*pb.BuildReportRequest, grpc.ServerStreamingServer[pb.BuildReportResponse]) error {
	return pending("ReportService.BuildReport", reportWork)
}
