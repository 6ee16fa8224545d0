// Package claimscsv reads Liaison's CSV claims extract (docs/csv-claims.md):
// one row per claim line, a header row naming the columns, RFC 4180 quoting.
// Each claim becomes an encounter keyed "Claim/<claim id>" with its billed
// lines and diagnoses; quality-data-code lines become quality-code records and
// NDC lines medication records, keyed "Claim/<claim id>/<line number>", so
// importing the same extract again changes nothing. Like the FHIR reader it
// maps and reports mapping problems; ingest.Convert checks the records.
package claimscsv

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/source"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// MaxDiagnoses is how many dx columns a row may carry (dx1 … dx12).
const MaxDiagnoses = 12

// required columns must be in the header; a row must fill them (tin may be
// left to the default TIN).
var required = []string{"patient_id", "claim_id", "line_number", "date_of_service"}

// Options tune a read.
type Options struct {
	// DefaultTIN fills rows whose tin column is empty (or absent).
	DefaultTIN string
}

// ItemType is the Origin type of a CSV row.
const ItemType = "claim line"

// claim gathers the lines of one claim, in the order first seen.
type claim struct {
	origin source.Origin
	enc    *pb.Encounter
	extra  []placed // quality codes and medications, with their rows
	lines  map[string]bool
	// What the claim says of its setting (clinical.ClaimSetting) and, for a
	// stay, its admission and discharge dates.
	facts                clinical.ClaimFacts
	admission, discharge string
}

type placed struct {
	rec    *pb.Record
	origin source.Origin
}

// Read reads one CSV file. Records go to sink after the whole file is read
// (patients, then claims' encounters, then line records), because a claim's
// lines may be anywhere in the file and the ingest API resolves references
// only against records sent earlier.
func Read(ctx context.Context, path string, opts Options, sink source.Sink) (source.Summary, error) {
	return source.ReadPath(path, func(r io.Reader) (source.Summary, error) { return ReadFrom(ctx, r, path, opts, sink) })
}

// ReadFrom is Read over any reader; name is used in origins.
func ReadFrom(ctx context.Context, r io.Reader, name string, opts Options, sink source.Sink) (source.Summary, error) {
	sum := source.NewSummary()
	sum.Files = 1
	problem := sum.Reporter(sink)
	table, err := source.NewCSV(r, name, required, "docs/csv-claims.md")
	if err != nil {
		return sum, err
	}
	var patients []placed
	patientSeen := map[string]*pb.Patient{}
	var claims []*claim
	claimByKey := map[string]*claim{}
	err = table.Rows(ctx, ItemType, &sum, problem, func(fields []string, o source.Origin) error {
		rw := &row{cols: table.Cols, fields: fields, o: o, opts: opts}
		rw.parse()
		for _, p := range rw.problems {
			problem(p)
		}
		if rw.rejected {
			sum.Rejected++
			return nil
		}
		sum.Imported[ItemType]++
		o = rw.o
		pkey := rw.tin + "\x00" + rw.patientID
		if prev, ok := patientSeen[pkey]; !ok {
			p := rw.patient()
			patientSeen[pkey] = p
			patients = append(patients, placed{&pb.Record{Kind: &pb.Record_Patient{Patient: p}}, o})
		} else if p := rw.patient(); prev.BirthDate != p.BirthDate || prev.Sex != p.Sex {
			problem(source.Problem{Origin: o, Path: "birth_date", Rule: "patient.conflict", Flag: true,
				Message: fmt.Sprintf("patient %q has birth date %q and sex %s on an earlier row; the earlier row is kept", rw.patientID, prev.BirthDate, prev.Sex)})
		}
		ckey := rw.tin + "\x00" + rw.claimID
		c := claimByKey[ckey]
		if c == nil {
			c = &claim{origin: o, lines: map[string]bool{}, enc: &pb.Encounter{Tin: rw.tin, SourceId: "Claim/" + rw.claimID,
				PatientId: rw.patientID, Start: rw.date, RenderingNpi: rw.npi, PlaceOfService: rw.pos}}
			claimByKey[ckey] = c
			claims = append(claims, c)
		}
		if c.lines[rw.lineNo] {
			problem(source.Problem{Origin: o, Path: "line_number", Rule: "line.duplicate", Flag: true,
				Message: fmt.Sprintf("claim %q has line %s twice; the later row wins", rw.claimID, rw.lineNo)})
		}
		c.lines[rw.lineNo] = true
		c.claimLevel(rw, problem)
		c.add(rw)
		return nil
	})
	if err != nil {
		return sum, err
	}
	if sink.Total != nil {
		sink.Total(sum.Read)
	}
	emit := func(p placed) error {
		sum.Records[source.RecordType(p.rec)]++
		return sink.Record(p.rec, p.origin)
	}
	for _, p := range patients {
		if err := emit(p); err != nil {
			return sum, err
		}
	}
	for _, c := range claims {
		if len(c.enc.Lines) > 0 || len(c.enc.Diagnoses) > 0 || c.hasQDC() {
			facts := c.facts
			facts.POS = c.enc.PlaceOfService
			source.ClaimEncounter(c.enc, clinical.ClaimSetting(facts), c.admission, c.discharge)
			if err := emit(placed{&pb.Record{Kind: &pb.Record_Encounter{Encounter: c.enc}}, c.origin}); err != nil {
				return sum, err
			}
		}
	}
	for _, c := range claims {
		for _, p := range c.extra {
			if err := emit(p); err != nil {
				return sum, err
			}
		}
	}
	sum.Items(sink, name, ItemType)
	return sum, nil
}

func (c *claim) hasQDC() bool {
	for _, p := range c.extra {
		if p.rec.GetQualityCode() != nil {
			return true
		}
	}
	return false
}

// claimLevel takes the values that belong to the whole claim (claim type,
// type of bill, admission and discharge dates, discharge status) from the
// first row that has each; a later row that disagrees is flagged.
func (c *claim) claimLevel(rw *row, problem func(source.Problem)) {
	for _, v := range []struct {
		col      string
		have     *string
		row      string
		describe string
	}{
		{"claim_type", (*string)(&c.facts.Type), string(rw.claimType), "claim type"},
		{"type_of_bill", &c.facts.BillType, rw.billType, "type of bill"},
		{"admission_date", &c.admission, rw.admission, "admission date"},
		{"discharge_date", &c.discharge, rw.discharge, "discharge date"},
		{"discharge_status", &c.facts.DischargeStatus, rw.dischargeStatus, "discharge status"},
	} {
		switch {
		case v.row == "":
		case *v.have == "":
			*v.have = v.row
		case *v.have != v.row:
			problem(source.Problem{Origin: rw.o, Path: v.col, Rule: "claim.conflict", Flag: true,
				Message: fmt.Sprintf("claim %q has %s %q on an earlier row; the earlier row is kept", rw.claimID, v.describe, *v.have)})
		}
	}
	if rw.revenue != "" && !slices.Contains(c.facts.Revenue, rw.revenue) {
		c.facts.Revenue = append(c.facts.Revenue, rw.revenue)
	}
	if rw.code != "" {
		c.facts.Codes = append(c.facts.Codes, strings.ToUpper(rw.code))
	}
}

// add folds one row into its claim: the encounter spans every line's date,
// collects diagnoses once each, and takes a line, a quality code or a
// medication from the row.
func (c *claim) add(rw *row) {
	e := c.enc
	if rw.date < e.Start {
		if e.End == "" {
			e.End = e.Start // the earlier start's row still ends the claim
		}
		e.Start = rw.date
	}
	if rw.date > e.Start && rw.date > e.End {
		e.End = rw.date
	}
	if e.RenderingNpi == "" {
		e.RenderingNpi = rw.npi
	}
	if e.PlaceOfService == "" {
		e.PlaceOfService = rw.pos
	}
	for _, d := range rw.dx {
		dup := false
		for _, have := range e.Diagnoses {
			dup = dup || have.Code == d
		}
		if !dup {
			e.Diagnoses = append(e.Diagnoses, &pb.Coding{System: string(clinical.ICD10CM), Code: d})
		}
	}
	id := e.SourceId + "/" + rw.lineNo
	if rw.code != "" {
		sys := clinical.HCPCS
		if source.IsCPTShape(rw.code) {
			sys = clinical.CPT
		}
		cd := &pb.Coding{System: string(sys), Code: rw.code}
		if source.IsQualityDataCode(sys, rw.code) {
			c.extra = append(c.extra, placed{&pb.Record{Kind: &pb.Record_QualityCode{QualityCode: &pb.QualityCode{Tin: rw.tin, SourceId: id,
				PatientId: rw.patientID, Code: cd, Modifiers: rw.modifiers, Date: rw.date, Npi: rw.npi, EncounterId: e.SourceId}}}, rw.o})
		} else {
			e.Lines = append(e.Lines, &pb.ProcedureLine{Code: cd, Modifiers: rw.modifiers})
		}
	}
	if rw.ndc != "" {
		// A pharmacy line is a dispense; an NDC next to a billed code (a J-code drug) was given in the office.
		kind := pb.MedicationKind_MEDICATION_KIND_DISPENSE
		if rw.code != "" {
			kind = pb.MedicationKind_MEDICATION_KIND_ADMINISTRATION
		}
		c.extra = append(c.extra, placed{&pb.Record{Kind: &pb.Record_Medication{Medication: &pb.MedicationEvent{Tin: rw.tin, SourceId: id,
			PatientId: rw.patientID, Kind: kind, Code: &pb.Coding{System: string(clinical.NDC), Code: rw.ndc},
			Date: rw.date, DaysSupply: rw.daysSupply, Npi: rw.npi}}}, rw.o})
	}
}

// row is one parsed CSV row.
type row struct {
	cols     map[string]int
	fields   []string
	o        source.Origin
	opts     Options
	problems []source.Problem
	rejected bool

	patientID, birthDate, sex, claimID, lineNo, date, tin, npi, pos, code, ndc string
	modifiers, dx                                                              []string
	daysSupply                                                                 int32
	// The claim's setting facts (docs/csv-claims.md), validated; a bad value
	// is flagged and left out.
	claimType                                                clinical.ClaimType
	billType, revenue, admission, discharge, dischargeStatus string
}

func (r *row) get(col string) string {
	i, ok := r.cols[col]
	if !ok || i >= len(r.fields) {
		return ""
	}
	return strings.TrimSpace(r.fields[i])
}

func (r *row) reject(col, rule, msg string) {
	r.rejected = true
	r.problems = append(r.problems, source.Problem{Origin: r.o, Path: col, Rule: rule, Message: msg})
}

func (r *row) flag(col, rule, msg string) {
	r.problems = append(r.problems, source.Problem{Origin: r.o, Path: col, Rule: rule, Message: msg, Flag: true})
}

var sexes = map[string]pb.Sex{"": pb.Sex_SEX_UNSPECIFIED, "F": pb.Sex_SEX_FEMALE, "FEMALE": pb.Sex_SEX_FEMALE,
	"M": pb.Sex_SEX_MALE, "MALE": pb.Sex_SEX_MALE, "U": pb.Sex_SEX_UNKNOWN, "UNKNOWN": pb.Sex_SEX_UNKNOWN}

func (r *row) parse() {
	if len(r.fields) != len(r.cols) {
		r.reject(fmt.Sprintf("column %d", min(len(r.fields), len(r.cols))+1), "csv.field_count",
			fmt.Sprintf("the row has %d fields; the header has %d", len(r.fields), len(r.cols)))
		return
	}
	r.patientID, r.claimID, r.lineNo = r.get("patient_id"), r.get("claim_id"), r.get("line_number")
	r.o.ID = r.claimID + "/" + r.lineNo
	for _, c := range required {
		if r.get(c) == "" {
			r.reject(c, "column.required", c+" is empty; it is part of the record keys or dates")
		}
	}
	r.birthDate, r.date = source.ISODate(r.get("birth_date")), source.ISODate(r.get("date_of_service"))
	r.sex = strings.ToUpper(r.get("sex"))
	if _, ok := sexes[r.sex]; !ok {
		r.flag("sex", "sex.unknown", fmt.Sprintf("sex %q is not F, M or U; imported as unknown", r.get("sex")))
		r.sex = "U"
	}
	r.tin = strings.ReplaceAll(r.get("tin"), "-", "")
	if r.tin == "" {
		r.tin = r.opts.DefaultTIN
	}
	if r.tin == "" {
		r.reject("tin", "tin.unresolved", "tin is empty and no default TIN was given (--tin)")
	}
	r.npi, r.pos, r.code = r.get("rendering_npi"), r.get("place_of_service"), r.get("code")
	r.ndc = r.get("ndc")
	for _, m := range strings.FieldsFunc(r.get("modifiers"), func(c rune) bool { return c == ' ' || c == ',' || c == ';' || c == ':' }) {
		r.modifiers = append(r.modifiers, m)
	}
	for i := 1; i <= MaxDiagnoses; i++ {
		if d := r.get(fmt.Sprintf("dx%d", i)); d != "" {
			r.dx = append(r.dx, d)
		}
	}
	if s := r.get("days_supply"); s != "" {
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			r.reject("days_supply", "days_supply.format", fmt.Sprintf("days_supply %q is not a whole number", s))
		}
		r.daysSupply = int32(n)
	}
	r.parseSetting()
	if r.code == "" && r.ndc == "" && len(r.dx) == 0 && r.revenue == "" {
		r.reject("code", "line.empty", "the row has no code, no ndc, no revenue code and no diagnosis: nothing to import")
	}
}

// parseSetting reads the optional columns that give a claim its setting
// (clinical.ClaimSetting). A value of the wrong form is flagged and left
// out: the row's codes still count, the setting is derived without it.
func (r *row) parseSetting() {
	if s := r.get("claim_type"); s != "" {
		t, err := clinical.ParseClaimType(s)
		if err != nil {
			r.flag("claim_type", "claim_type.unknown", err.Error()+"; left out")
		}
		r.claimType = t
	}
	for _, v := range []struct {
		col, rule string
		dst       *string
		norm      func(string) (string, error)
	}{
		{"type_of_bill", "type_of_bill.format", &r.billType, clinical.NormalizeBillType},
		{"revenue_code", "revenue_code.format", &r.revenue, clinical.NormalizeRevenueCode},
		{"discharge_status", "discharge_status.format", &r.dischargeStatus, clinical.NormalizeDischargeStatus},
	} {
		if s := r.get(v.col); s != "" {
			c, err := v.norm(s)
			if err != nil {
				r.flag(v.col, v.rule, err.Error()+"; left out")
			}
			*v.dst = c
		}
	}
	var admitted, discharged clinical.Date
	for _, v := range []struct {
		col string
		dst *string
		d   *clinical.Date
	}{{"admission_date", &r.admission, &admitted}, {"discharge_date", &r.discharge, &discharged}} {
		if s := r.get(v.col); s != "" {
			iso := source.ISODate(s)
			d, err := clinical.ParseDate(iso)
			if err != nil {
				r.flag(v.col, v.col+".format", fmt.Sprintf("%s %q is not a date (YYYY-MM-DD or MM/DD/YYYY); left out", v.col, s))
				continue
			}
			*v.dst, *v.d = iso, d
		}
	}
	if r.admission != "" && r.discharge != "" && discharged < admitted {
		r.flag("discharge_date", "discharge_date.order", fmt.Sprintf("discharge date %s is before admission date %s; left out", r.discharge, r.admission))
		r.discharge = ""
	}
}

func (r *row) patient() *pb.Patient {
	return &pb.Patient{Tin: r.tin, SourceId: r.patientID, BirthDate: r.birthDate, Sex: sexes[r.sex]}
}
