package api

import (
	"fmt"

	"github.com/liaison-registry/liaison/internal/access"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// rule is who may call one RPC and how a request is narrowed to the
// caller's scope. scope may rewrite the request (an empty TIN becomes the
// caller's) and returns the TIN and NPI the call acts on, for the audit log.
// Results that span practices (practice lists, runs) are filtered by the
// handlers' store queries, which take the scope from the context.
type rule struct {
	roles []access.Role
	scope func(p access.Principal, req any) (tin, npi string, err error)
}

var (
	everyone  = []access.Role{access.Operator, access.Practice, access.Physician}
	writers   = []access.Role{access.Operator, access.Practice}
	operators = []access.Role{access.Operator}
)

// policy has one entry per RPC. A method missing from it is refused, and a
// test walks every registered method against it, so a new RPC cannot be
// served before its access is decided.
var policy = map[string]rule{
	pb.IngestService_Ingest_FullMethodName:       {writers, scopeRecords},
	pb.IngestService_IngestStream_FullMethodName: {writers, scopeRecords},
	pb.IngestService_GetPatient_FullMethodName: {writers, func(p access.Principal, req any) (string, string, error) {
		r := req.(*pb.GetPatientRequest)
		return scopeTIN(p, &r.Tin)
	}},
	pb.IngestService_ListPatients_FullMethodName: {writers, func(p access.Principal, req any) (string, string, error) {
		r := req.(*pb.ListPatientsRequest)
		return scopeTIN(p, &r.Tin)
	}},
	pb.IngestService_ListPractices_FullMethodName: {everyone, callerScope},

	pb.MeasureService_ListMeasures_FullMethodName: {everyone, noScope},
	pb.MeasureService_GetMeasure_FullMethodName:   {everyone, noScope},

	pb.EvaluationService_StartEvaluation_FullMethodName: {writers, func(p access.Principal, req any) (string, string, error) {
		r := req.(*pb.StartEvaluationRequest)
		if p.Role == access.Operator {
			return "", "", nil
		}
		// A practice evaluates its own TIN only.
		if len(r.Tins) > 1 || (len(r.Tins) == 1 && r.Tins[0] != p.TIN) {
			return "", "", &access.Denied{Reason: fmt.Sprintf("practice key %s may evaluate TIN %s only", p.KeyID, p.TIN)}
		}
		r.Tins = []string{p.TIN}
		return p.TIN, "", nil
	}},
	pb.EvaluationService_GetEvaluation_FullMethodName:   {everyone, callerScope},
	pb.EvaluationService_ListEvaluations_FullMethodName: {everyone, callerScope},
	pb.EvaluationService_ListAggregates_FullMethodName: {everyone, func(p access.Principal, req any) (string, string, error) {
		r := req.(*pb.ListAggregatesRequest)
		tin, _, err := scopeTIN(p, &r.Tin)
		// A physician's rows are filtered to their NPI by the handler.
		return tin, p.NPI, err
	}},
	pb.EvaluationService_ListCases_FullMethodName: {everyone, func(p access.Principal, req any) (string, string, error) {
		r := req.(*pb.ListCasesRequest)
		return scopeTINNPI(p, &r.Tin, &r.Npi)
	}},

	pb.SubmissionService_BuildSubmission_FullMethodName: {writers, func(p access.Principal, req any) (string, string, error) {
		r := req.(*pb.BuildSubmissionRequest)
		return scopeTINNPI(p, &r.Tin, &r.Npi)
	}},
	pb.SubmissionService_ValidateSubmission_FullMethodName: {writers, noScope},

	pb.ReportService_BuildReport_FullMethodName: {everyone, func(p access.Principal, req any) (string, string, error) {
		r := req.(*pb.BuildReportRequest)
		if p.Role == access.Physician && (r.Kind == pb.ReportKind_REPORT_KIND_PRACTICE || r.Kind == pb.ReportKind_REPORT_KIND_FLS) {
			return "", "", &access.Denied{Reason: fmt.Sprintf("physician key %s may build physician reports and worklists for NPI %s, not practice reports", p.KeyID, p.NPI)}
		}
		return scopeTINNPI(p, &r.Tin, &r.Npi)
	}},

	pb.AccessService_CreateKey_FullMethodName:       {operators, noScope},
	pb.AccessService_ListKeys_FullMethodName:        {operators, noScope},
	pb.AccessService_RevokeKey_FullMethodName:       {operators, noScope},
	pb.AccessService_ListAuditEvents_FullMethodName: {operators, noScope},
}

func noScope(access.Principal, any) (string, string, error) { return "", "", nil }

// callerScope is for calls whose results the handler filters by the caller.
func callerScope(p access.Principal, _ any) (string, string, error) { return p.TIN, p.NPI, nil }

func scopeTIN(p access.Principal, tin *string) (string, string, error) {
	t, err := p.ScopeTIN(*tin)
	if err != nil {
		return *tin, "", err // the TIN asked for, for the audit log
	}
	*tin = t
	return t, "", nil
}

func scopeTINNPI(p access.Principal, tin, npi *string) (string, string, error) {
	t, err := p.ScopeTIN(*tin)
	if err != nil {
		return *tin, *npi, err // what was asked for, for the audit log
	}
	n, err := p.ScopeNPI(*npi)
	*tin, *npi = t, n
	return t, n, err
}

// scopeRecords checks every record of an ingest request (or stream
// message) belongs to the caller's practice. Clinicians are shared across
// practices (an NPI is one person) and carry no TIN.
func scopeRecords(p access.Principal, req any) (string, string, error) {
	if p.Role == access.Operator {
		return "", "", nil
	}
	var recs []*pb.Record
	switch r := req.(type) {
	case *pb.IngestRequest:
		recs = r.GetRecords()
	case *pb.IngestStreamRequest:
		recs = r.GetRecords()
	}
	for i, rec := range recs {
		if t := recordTIN(rec); t != p.TIN && rec.GetClinician() == nil {
			return "", "", &access.Denied{Reason: fmt.Sprintf("records[%d]: TIN %q is not this key's practice (%s); nothing was stored", i, t, p.TIN)}
		}
	}
	return p.TIN, "", nil
}

func recordTIN(r *pb.Record) string {
	switch k := r.GetKind().(type) {
	case *pb.Record_Practice:
		return k.Practice.GetTin()
	case *pb.Record_Patient:
		return k.Patient.GetTin()
	case *pb.Record_Encounter:
		return k.Encounter.GetTin()
	case *pb.Record_Procedure:
		return k.Procedure.GetTin()
	case *pb.Record_Condition:
		return k.Condition.GetTin()
	case *pb.Record_Medication:
		return k.Medication.GetTin()
	case *pb.Record_QualityCode:
		return k.QualityCode.GetTin()
	case *pb.Record_Coverage:
		return k.Coverage.GetTin()
	case *pb.Record_InstitutionalFlag:
		return k.InstitutionalFlag.GetTin()
	case *pb.Record_CareEvent:
		return k.CareEvent.GetTin()
	}
	return ""
}
