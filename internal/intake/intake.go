// Package intake stores ingest requests: every record goes through
// ingest.Convert, references are resolved against the request and the
// store, and the valid records are written in one transaction. Readers of
// outside input (FHIR, CSV, NDJSON) use package ingest's rules without this
// package, so they never reach storage.
package intake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/liaison-registry/liaison/internal/clinical"
	"github.com/liaison-registry/liaison/internal/ingest"
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
//
// Reading and converting the next message runs in its own goroutine while
// the current one is written, so the database and the CPU work overlap.
//
// practice is the TIN of the sender's key ("" for an operator): the
// clinician details it sends are its own, kept apart from other practices'.
func (s *Service) Ingest(ctx context.Context, mode pb.IngestMode, practice string, next Next) (*pb.IngestResult, error) {
	partial := mode == pb.IngestMode_INGEST_MODE_PARTIAL
	res := &pb.IngestResult{StoredByType: map[string]int64{}}
	err := s.Store.InTxOnce(ctx, func(tx *store.Tx) error {
		batchID, err := tx.BeginBatch(ctx, mode.String())
		if err != nil {
			return err
		}
		stored, err := tx.PracticeZones(ctx)
		if err != nil {
			return err
		}
		r := &request{tx: tx, res: res, practice: practice}
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		msgs := convertAll(cctx, next, newZones(stored))
		for msg := range msgs {
			msg = coalesce(msg, msgs)
			if msg.err != nil {
				return msg.err
			}
			batch, err := r.message(ctx, msg)
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
		if slot := store.AuditIn(ctx); slot != nil {
			// The write and its audit event commit together.
			slot.Event.Items, slot.Event.Code = res.Stored, "OK"
			if err := tx.RecordAudit(ctx, slot.Event); err != nil {
				return err
			}
		}
		return tx.FinishBatch(ctx, batchID, res.Received, res.Stored, res.Rejected)
	})
	if slot := store.AuditIn(ctx); slot != nil && err == nil {
		slot.Written = true
	}
	// Conversion and reference checks report separately; callers get input order.
	sort.SliceStable(res.Rejections, func(i, j int) bool { return res.Rejections[i].Index < res.Rejections[j].Index })
	if err != nil {
		res.Committed = false
		return res, err
	}
	return res, nil
}

// writeSize is how many records coalesce into one write: each write costs a
// round of COPY statements, so small client messages are merged while the
// database is busy with the previous write.
const writeSize = 20_000

// coalesce appends to msg the converted messages already waiting, up to
// writeSize records, stopping at an error (which then ends the request).
func coalesce(msg converted, more <-chan converted) converted {
	for msg.err == nil && len(msg.records) < writeSize {
		select {
		case m, ok := <-more:
			if !ok {
				return msg
			}
			msg.received += m.received
			msg.records = append(msg.records, m.records...)
			msg.rejections = append(msg.rejections, m.rejections...)
			msg.err = m.err
		default:
			return msg
		}
	}
	return msg
}

// converted is one message after conversion: its valid records and the
// rejections of the rest.
type converted struct {
	received   int
	records    []ingest.Record
	rejections [][]*pb.Rejection
	err        error
}

// convertAll reads and converts messages in order on its own goroutine. The
// channel closes after io.EOF or after delivering an error.
func convertAll(ctx context.Context, next Next, zones *zones) <-chan converted {
	out := make(chan converted, 8)
	go func() {
		defer close(out)
		var index int64
		for {
			recs, err := next()
			if errors.Is(err, io.EOF) {
				return
			}
			msg := converted{received: len(recs), err: err}
			if err == nil {
				zones.learn(recs)
				for _, rec := range recs {
					out, rej := ingest.Convert(index, rec, zones.of)
					index++
					if len(rej) > 0 {
						msg.rejections = append(msg.rejections, rej)
						continue
					}
					msg.records = append(msg.records, out)
				}
			}
			select {
			case out <- msg:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return out
}

// zones are the practices' time zones as the request goes: stored ones,
// overridden by practice records in the request (a practice sent with its
// data governs it). A practice with no zone (unknown, or stored without
// one) reads a datetime as the date it was written with.
type zones struct{ byTIN map[string]*time.Location }

func newZones(stored map[string]string) *zones {
	z := &zones{byTIN: map[string]*time.Location{}}
	for tin, name := range stored {
		if loc := clinical.Zone(name); loc != nil {
			z.byTIN[tin] = loc
		}
	}
	return z
}

func (z *zones) learn(recs []*pb.Record) {
	for _, rec := range recs {
		if p := rec.GetPractice(); p != nil {
			if loc := clinical.Zone(p.GetTimeZone()); loc != nil {
				z.byTIN[p.GetTin()] = loc
			} else {
				delete(z.byTIN, p.GetTin())
			}
		}
	}
}

func (z *zones) of(tin string) *time.Location { return z.byTIN[tin] }

// request is the state of one atomic request across its messages.
type request struct {
	tx       *store.Tx
	res      *pb.IngestResult
	practice string // the sender's TIN, given to the clinician details it sends
}

// message resolves a converted message's references and returns its valid
// records deduplicated (the last record with a key wins).
func (r *request) message(ctx context.Context, msg converted) (*store.Batch, error) {
	r.res.Received += int64(msg.received)
	for _, rej := range msg.rejections {
		r.reject(rej)
	}
	converted := msg.records
	for i, rec := range converted {
		if c, ok := rec.Value.(clinical.Clinician); ok {
			c.TIN = r.practice
			converted[i].Value = c
		}
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

// resolve checks that every patient and encounter reference points at a
// record of the same TIN, in this message or already stored (including
// earlier messages of this request, visible in its transaction).
func (r *request) resolve(ctx context.Context, recs []ingest.Record) error {
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

func refRejection(rec *ingest.Record, field, rule, what, id string) *pb.Rejection {
	return &pb.Rejection{Index: rec.Index, RecordType: rec.Type, Tin: rec.TIN, SourceId: rec.ID, Field: rec.Kind + "." + field, Rule: rule,
		Message: fmt.Sprintf("%s %q is not a %s of TIN %s, neither in this request nor stored", field, id, what, rec.TIN)}
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
func (d *deduper) add(b *store.Batch, rec ingest.Record) {
	d.counts[rec.Type]++
	switch v := rec.Value.(type) {
	case clinical.Practice:
		b.Practices = place(d, rec, b.Practices, v)
	case clinical.Clinician:
		b.Clinicians = place(d, rec, b.Clinicians, v)
	case clinical.Patient:
		// The same patient from two sources in one request merges, as it does with a stored one.
		b.Patients = placeMerged(d, rec, b.Patients, v, clinical.Patient.MergeFrom)
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
	case clinical.CareEvent:
		b.CareEvents = place(d, rec, b.CareEvents, v)
	}
}

func place[T any](d *deduper, rec ingest.Record, list []T, v T) []T {
	return placeMerged(d, rec, list, v, func(_, newer T) T { return newer })
}

// placeMerged is place with merge combining an earlier record with its key and the newer one.
func placeMerged[T any](d *deduper, rec ingest.Record, list []T, v T, merge func(earlier, newer T) T) []T {
	m := d.pos[rec.Type]
	if m == nil {
		m = map[string]int{}
		d.pos[rec.Type] = m
	}
	key := rec.TIN + "\x00" + rec.ID
	if i, ok := m[key]; ok {
		list[i] = merge(list[i], v)
		return list
	}
	m[key] = len(list)
	return append(list, v)
}
