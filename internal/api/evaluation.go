package api

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/liaison-registry/liaison/internal/access"
	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/evaluation"
	"github.com/liaison-registry/liaison/internal/measure"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// evaluationServer implements EvaluationService.
type evaluationServer struct {
	pb.UnimplementedEvaluationServiceServer
	svc *evaluation.Service
	log *slog.Logger
}

func (s *evaluationServer) StartEvaluation(ctx context.Context, req *pb.StartEvaluationRequest) (*pb.StartEvaluationResponse, error) {
	run, err := s.svc.Start(ctx, req.GetMeasureId(), req.GetTins(), access.From(ctx).TIN)
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	return &pb.StartEvaluationResponse{Run: runMsg(run)}, nil
}

func (s *evaluationServer) GetEvaluation(ctx context.Context, req *pb.GetEvaluationRequest) (*pb.GetEvaluationResponse, error) {
	run, err := s.svc.GetRun(ctx, req.GetRunId())
	if err == nil {
		run, err = s.svc.AsSeen(ctx, run)
	}
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	return &pb.GetEvaluationResponse{Run: runMsg(run)}, nil
}

func (s *evaluationServer) ListEvaluations(ctx context.Context, req *pb.ListEvaluationsRequest) (*pb.ListEvaluationsResponse, error) {
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	var before *evaluation.RunCursor
	if t := req.GetPageToken(); t != "" {
		if before, err = decodeRunCursor(t); err != nil {
			return nil, toStatus(ctx, s.log, err, nil)
		}
	}
	list, err := s.svc.ListRuns(ctx, req.GetMeasureId(), before, size+1)
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	resp := &pb.ListEvaluationsResponse{}
	if len(list) > size {
		list = list[:size]
		last := list[size-1]
		resp.NextPageToken = encodeRunCursor(evaluation.RunCursor{CreatedAt: last.CreatedAt, ID: last.ID})
	}
	for _, r := range list {
		resp.Runs = append(resp.Runs, runMsg(r))
	}
	return resp, nil
}

var levels = map[pb.AggregateLevel]string{
	pb.AggregateLevel_AGGREGATE_LEVEL_TIN: "tin", pb.AggregateLevel_AGGREGATE_LEVEL_TIN_NPI: "tin_npi",
	pb.AggregateLevel_AGGREGATE_LEVEL_STRATUM: "stratum",
}

func (s *evaluationServer) ListAggregates(ctx context.Context, req *pb.ListAggregatesRequest) (*pb.ListAggregatesResponse, error) {
	level, ok := levels[req.GetLevel()]
	if !ok {
		return nil, toStatus(ctx, s.log, invalid("level", "level.required", "level must be %s", enumNames(pb.AggregateLevel(0))), nil)
	}
	aggs, err := s.svc.OwnAggregates(ctx, req.GetRunId(), level, req.GetTin())
	if err != nil {
		return nil, toStatus(ctx, s.log, runError(err), nil)
	}
	resp := &pb.ListAggregatesResponse{}
	for _, a := range aggs {
		resp.Aggregates = append(resp.Aggregates, &pb.Aggregate{Tin: a.TIN, Npi: a.NPI, Stratum: a.Stratum, StratumValue: a.StratumValue,
			Counts: countsMsg(a.Counts), PerformanceRate: a.Counts.Rate(), Tally: tallyMsg(a.Tally)})
	}
	return resp, nil
}

func (s *evaluationServer) ListCases(ctx context.Context, req *pb.ListCasesRequest) (*pb.ListCasesResponse, error) {
	size, err := pageSize(req.GetPageSize())
	if err != nil {
		return nil, toStatus(ctx, s.log, err, nil)
	}
	f := evaluation.CaseFilter{RunID: req.GetRunId(), TIN: req.GetTin(), NPI: req.GetNpi(), OpenAtCutoff: req.GetOpenOnly(), Limit: size + 1}
	if p := req.GetPopulation(); p != "" {
		pop, ok := measure.ParsePopulation(p)
		if !ok {
			return nil, toStatus(ctx, s.log, invalid("population", "population.unknown",
				"population %q is not one of %s", p, strings.Join(measure.AllPopulations.Names(), ", ")), nil)
		}
		f.Population = &pop
	}
	if t := req.GetPageToken(); t != "" {
		cur, err := decodeCursor(t)
		if err != nil {
			return nil, toStatus(ctx, s.log, err, nil)
		}
		f.After = cur
	}
	cases, err := s.svc.ListCases(ctx, f)
	if err != nil {
		return nil, toStatus(ctx, s.log, runError(err), nil)
	}
	resp := &pb.ListCasesResponse{}
	if len(cases) > size {
		cases = cases[:size]
		last := cases[size-1]
		resp.NextPageToken = encodeCursor(evaluation.CaseCursor{DueDate: last.DueDate, TIN: last.TIN, CaseID: last.CaseID})
	}
	for _, c := range cases {
		resp.Cases = append(resp.Cases, caseMsg(c))
	}
	return resp, nil
}

// runError says why a run's results cannot be read.
func runError(err error) error {
	if errors.Is(err, evaluation.ErrNotFinished) {
		return invalid("run_id", "run.not_finished", "%v; its results are readable once it has succeeded", err)
	}
	return err
}

func encodeCursor(c evaluation.CaseCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.DueDate.String() + "\x00" + c.TIN + "\x00" + c.CaseID))
}

var reUUID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// A runs page token is the last run's creation time and id, opaque to
// clients and never looked up.
func encodeRunCursor(c evaluation.RunCursor) string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.CreatedAt.UTC().Format(time.RFC3339Nano) + "\x00" + c.ID))
}

func decodeRunCursor(token string) (*evaluation.RunCursor, error) {
	bad := invalid("page_token", "page_token.invalid", "page_token was not returned by ListEvaluations")
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, bad
	}
	at, id, ok := strings.Cut(string(raw), "\x00")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || !reUUID.MatchString(id) {
		return nil, bad
	}
	return &evaluation.RunCursor{CreatedAt: t, ID: id}, nil
}

func decodeCursor(token string) (*evaluation.CaseCursor, error) {
	bad := invalid("page_token", "page_token.invalid", "page_token was not returned by ListCases")
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, bad
	}
	parts := strings.Split(string(raw), "\x00")
	if len(parts) != 3 {
		return nil, bad
	}
	due, err := clinical.ParseDate(parts[0])
	if err != nil {
		return nil, bad
	}
	return &evaluation.CaseCursor{DueDate: due, TIN: parts[1], CaseID: parts[2]}, nil
}

var runStatuses = map[string]pb.RunStatus{
	evaluation.Queued: pb.RunStatus_RUN_STATUS_QUEUED, evaluation.Running: pb.RunStatus_RUN_STATUS_RUNNING,
	evaluation.Succeeded: pb.RunStatus_RUN_STATUS_SUCCEEDED, evaluation.Failed: pb.RunStatus_RUN_STATUS_FAILED,
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func runMsg(r evaluation.Run) *pb.Run {
	m := &pb.Run{Id: r.ID, MeasureId: r.MeasureKey, Tins: r.TINs, Status: runStatuses[r.Status], Error: r.Error,
		CreatedAt: rfc3339(r.CreatedAt), StartedAt: rfc3339(r.StartedAt), FinishedAt: rfc3339(r.FinishedAt),
		PatientsTotal: r.PatientsTotal, PatientsDone: r.PatientsDone, SpecHash: r.SpecHash,
		DataCutoff: rfc3339(r.DataCutoffAt), SoftwareVersion: r.SoftwareVersion,
		Provisional: len(r.Provisional) > 0, ProvisionalReasons: r.Provisional, Sources: r.Sources, Scoring: string(r.Scoring)}
	if r.Status == evaluation.Succeeded {
		m.Counts, m.PerformanceRate, m.Tally = countsMsg(r.Counts), r.Counts.Rate(), tallyMsg(r.Tally)
	}
	return m
}

func countsMsg(c measure.Counts) *pb.PopulationCounts {
	return &pb.PopulationCounts{InitialPopulation: int64(c[measure.InitialPopulation]), Denominator: int64(c[measure.Denominator]),
		DenominatorExclusion: int64(c[measure.DenominatorExclusion]), DenominatorException: int64(c[measure.DenominatorException]),
		Numerator: int64(c[measure.Numerator]), PerformanceNotMet: int64(c[measure.PerformanceNotMet])}
}

func tallyMsg(t evaluation.Tally) *pb.Tally {
	m := &pb.Tally{Populations: map[string]int64{}, Events: t.Events, PersonYears: t.PersonYears}
	for name, n := range t.Counts.ByName() {
		m.Populations[name] = int64(n)
	}
	if o := t.Observation; o.N > 0 {
		m.Observation = &pb.ObservationSummary{N: o.N, Sum: o.Sum, Median: o.Median, Q1: o.Q1, Q3: o.Q3}
	}
	if r, ok := t.Rate(); ok {
		m.Rate, m.RateLow, m.RateHigh = &r.Rate, &r.Low, &r.High
	}
	for _, p := range t.Incidence {
		m.Incidence = append(m.Incidence, &pb.IncidencePoint{Days: int32(p.Days), Cif: p.CIF, Competing: p.Competing, AtRisk: int64(p.AtRisk), Horizon: p.Horizon})
	}
	return m
}

func caseMsg(c measure.Case) *pb.Case {
	m := &pb.Case{CaseId: c.CaseID, PatientId: c.PatientID, Tin: c.TIN, Npi: c.NPI,
		IndexDate: c.IndexDate.String(), DueDate: c.DueDate.String()}
	m.Populations = c.Populations.Names()
	if c.Observed {
		m.Observation = &c.Observation
	}
	m.Events, m.PersonYears = int64(c.Events), c.PersonYears
	m.Outcome, m.FollowUpDays = c.Outcome.String(), int32(c.FollowUp)
	for _, s := range c.Strata {
		m.Strata = append(m.Strata, &pb.Stratum{Name: s.Name, Value: s.Value})
	}
	for _, e := range c.Evidence {
		m.Evidence = append(m.Evidence, &pb.Evidence{Population: e.Population.String(), Rule: e.Rule, RecordIds: e.RecordIDs, Text: e.Text})
	}
	return m
}
