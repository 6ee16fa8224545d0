package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/store"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// ErrRejected means an all-or-nothing request had invalid records, so nothing
// was stored; the result lists them.
var ErrRejected = errors.New("request rejected: it has invalid records and the mode is all-or-nothing, so nothing was stored")

// Service stores requests of records atomically.
type Service struct {
	Store *store.Store
}

// Next returns the next message's records, or io.EOF after the last one.
type Next func() ([]*pb.Record, error)

// Ingest reads every message from next and stores the request in one
// transaction, committed only after next reports io.EOF: an error from next
// (a client gone mid-stream, a cancelled context) rolls everything back.
// With mode all-or-nothing, any invalid record stores nothing and returns
// ErrRejected together with the full result.
func (s *Service) Ingest(ctx context.Context, mode pb.IngestMode, next Next) (*pb.IngestResult, error) {
	partial := mode == pb.IngestMode_INGEST_MODE_PARTIAL
	res := &pb.IngestResult{StoredByType: map[string]int64{}}
	err := s.Store.InTx(ctx, func(tx *store.Tx) error {
		*res = pb.IngestResult{StoredByType: map[string]int64{}} // a retried transaction starts over
		batchID, err := tx.BeginBatch(ctx, mode.String())
		if err != nil {
			return err
		}
		r := &request{tx: tx, res: res, zones: map[string]*time.Location{}}
		for {
			recs, err := next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			batch, err := r.message(ctx, recs)
			if err != nil {
				return err
			}
			if res.Rejected > 0 && !partial {
				continue // keep validating to report every problem, but write nothing
			}
			if err := tx.Write(ctx, batch, batchID); err != nil {
				return err
			}
		}
		if res.Rejected > 0 && !partial {
			res.Stored, res.StoredByType = 0, map[string]int64{}
			return ErrRejected
		}
		res.Committed = true
		return tx.FinishBatch(ctx, batchID, res.Received, res.Stored, res.Rejected)
	})
	if err != nil {
		res.Committed = false
		return res, err
	}
	return res, nil
}

// request is the state of one atomic request across its messages.
type request struct {
	tx    *store.Tx
	res   *pb.IngestResult
	zones map[string]*time.Location
}

// message converts one message's records, resolves their references and
// returns the valid ones deduplicated (the last record with a key wins).
func (r *request) message(ctx context.Context, recs []*pb.Record) (*store.Batch, error) {
	first := r.res.Received
	r.res.Received += int64(len(recs))
	if err := r.loadZones(ctx, recs); err != nil {
		return nil, err
	}
	converted := make([]Record, 0, len(recs))
	for i, rec := range recs {
		out, rej := Convert(first+int64(i), rec, r.zone)
		if len(rej) > 0 {
			r.reject(rej)
			continue
		}
		converted = append(converted, out)
	}
	if err := r.resolve(ctx, converted); err != nil {
		return nil, err
	}
	b := &store.Batch{}
	tins := map[string]bool{}
	d := newDeduper()
	for _, rec := range converted {
		if rec.Type == "" {
			continue // rejected during resolution
		}
		if rec.Type != "clinician" {
			tins[rec.TIN] = true
		}
		d.add(b, rec)
	}
	for tin := range tins {
		b.TINs = append(b.TINs, tin)
	}
	for typ, n := range d.counts {
		r.res.StoredByType[typ] += n
		r.res.Stored += n
	}
	return b, nil
}

func (r *request) reject(rej []*pb.Rejection) {
	r.res.Rejected++
	r.res.Rejections = append(r.res.Rejections, rej...)
}

// loadZones learns the time zone of every TIN in the message: from practice
// records in the message first (a practice sent with its data governs it),
// then from the store. Unknown practices read datetimes in UTC.
func (r *request) loadZones(ctx context.Context, recs []*pb.Record) error {
	var unknown []string
	for _, rec := range recs {
		if p := rec.GetPractice(); p != nil {
			if loc, err := time.LoadLocation(p.GetTimeZone()); err == nil {
				r.zones[p.GetTin()] = loc
			}
		}
	}
	seen := map[string]bool{}
	for _, rec := range recs {
		if tin := recordTIN(rec); tin != "" && r.zones[tin] == nil && !seen[tin] {
			seen[tin] = true
			unknown = append(unknown, tin)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	stored, err := r.tx.PracticeZones(ctx, unknown)
	if err != nil {
		return err
	}
	for _, tin := range unknown {
		loc, err := time.LoadLocation(stored[tin])
		if err != nil {
			loc = time.UTC
		}
		r.zones[tin] = loc
	}
	return nil
}

func (r *request) zone(tin string) *time.Location {
	if loc := r.zones[tin]; loc != nil {
		return loc
	}
	return time.UTC
}

// resolve checks that every patient and encounter reference points at a
// record of the same TIN, in this message or already stored (including
// earlier messages of this request, visible in its transaction).
func (r *request) resolve(ctx context.Context, recs []Record) error {
	patients, encounters := map[store.Key]bool{}, map[store.Key]bool{}
	for _, rec := range recs {
		switch rec.Type {
		case "patient":
			patients[store.Key{TIN: rec.TIN, SourceID: rec.ID}] = true
		case "encounter":
			encounters[store.Key{TIN: rec.TIN, SourceID: rec.ID}] = true
		}
	}
	var askP, askE []store.Key
	for _, rec := range recs {
		if k := (store.Key{TIN: rec.TIN, SourceID: rec.PatientRef}); rec.PatientRef != "" && !patients[k] {
			askP = append(askP, k)
		}
		if k := (store.Key{TIN: rec.TIN, SourceID: rec.EncounterRef}); rec.EncounterRef != "" && !encounters[k] {
			askE = append(askE, k)
		}
	}
	storedP, err := r.tx.ExistingPatients(ctx, askP)
	if err != nil {
		return err
	}
	storedE, err := r.tx.ExistingEncounters(ctx, askE)
	if err != nil {
		return err
	}
	for i := range recs {
		rec := &recs[i]
		var rej []*pb.Rejection
		if k := (store.Key{TIN: rec.TIN, SourceID: rec.PatientRef}); rec.PatientRef != "" && !patients[k] && !storedP[k] {
			rej = append(rej, refRejection(rec, "patient_id", "reference.patient", "patient", rec.PatientRef))
		}
		if k := (store.Key{TIN: rec.TIN, SourceID: rec.EncounterRef}); rec.EncounterRef != "" && !encounters[k] && !storedE[k] {
			rej = append(rej, refRejection(rec, "encounter_id", "reference.encounter", "encounter", rec.EncounterRef))
		}
		if len(rej) > 0 {
			r.reject(rej)
			rec.Type = ""
		}
	}
	return nil
}

func refRejection(rec *Record, field, rule, what, id string) *pb.Rejection {
	return &pb.Rejection{Index: rec.Index, RecordType: rec.Type, Tin: rec.TIN, SourceId: rec.ID, Field: field, Rule: rule,
		Message: fmt.Sprintf("%s %q is not a %s of TIN %s, neither in this request nor stored", field, id, what, rec.TIN)}
}

// recordTIN returns the TIN a record belongs to ("" for clinicians, which
// have none).
func recordTIN(rec *pb.Record) string {
	m := rec.ProtoReflect()
	fd := m.WhichOneof(m.Descriptor().Oneofs().ByName("kind"))
	if fd == nil {
		return ""
	}
	if t, ok := m.Get(fd).Message().Interface().(interface{ GetTin() string }); ok {
		return t.GetTin()
	}
	return ""
}

// deduper keeps the last record per key of each type, so a table's merge
// never sees one key twice.
type deduper struct {
	pos    map[string]map[string]int // type -> key -> position in the batch slice
	counts map[string]int64
}

func newDeduper() *deduper {
	return &deduper{pos: map[string]map[string]int{}, counts: map[string]int64{}}
}

// add appends rec to its slice in b, or replaces an earlier record with its key.
func (d *deduper) add(b *store.Batch, rec Record) {
	d.counts[rec.Type]++
	switch v := rec.Value.(type) {
	case clinical.Practice:
		b.Practices = place(d, rec, b.Practices, v)
	case clinical.Clinician:
		b.Clinicians = place(d, rec, b.Clinicians, v)
	case clinical.Patient:
		b.Patients = place(d, rec, b.Patients, v)
	case clinical.Encounter:
		b.Encounters = place(d, rec, b.Encounters, v)
	case clinical.Procedure:
		b.Procedures = place(d, rec, b.Procedures, v)
	case clinical.Condition:
		b.Conditions = place(d, rec, b.Conditions, v)
	case clinical.MedicationEvent:
		b.Medications = place(d, rec, b.Medications, v)
	case clinical.QualityCode:
		b.Quality = place(d, rec, b.Quality, v)
	case clinical.Coverage:
		b.Coverage = place(d, rec, b.Coverage, v)
	case clinical.Flag:
		b.Flags = place(d, rec, b.Flags, v)
	}
}

func place[T any](d *deduper, rec Record, list []T, v T) []T {
	m := d.pos[rec.Type]
	if m == nil {
		m = map[string]int{}
		d.pos[rec.Type] = m
	}
	key := rec.TIN + "\x00" + rec.ID
	if i, ok := m[key]; ok {
		list[i] = v
		return list
	}
	m[key] = len(list)
	return append(list, v)
}
