package store

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// Encounters are most of what an evaluation reads, and pgx's generic
// scanning of their five text[] columns dominated the read path, so their
// rows are decoded from the wire format here. Strings of few distinct values
// (TINs, NPIs, classes, code systems, codes, modifiers) are interned per
// reader; ids are not, so the interner stays small over a whole run.

// interner returns one string per distinct value; nil interns nothing.
type interner map[string]string

func (in interner) of(b []byte) string {
	if in == nil {
		return string(b)
	}
	if s, ok := in[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	in[s] = s
	return s
}

// pgEpochDays is 2000-01-01, PostgreSQL's date epoch, in days since 1970.
const pgEpochDays = 10957

var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// rawDecoder reads a row's raw values by column, binary where the
// column's format is binary. One decoder serves every row of a query.
type rawDecoder struct {
	vals    [][]byte
	formats []int16
	in      interner
	err     error
}

func newRawDecoder(in interner) *rawDecoder { return &rawDecoder{in: in} }

// row points the decoder at r; the column formats are read once per query.
func (d *rawDecoder) row(r pgx.CollectableRow) {
	if d.formats == nil {
		for _, fd := range r.FieldDescriptions() {
			d.formats = append(d.formats, fd.Format)
		}
	}
	d.vals, d.err = r.RawValues(), nil
}

func (d *rawDecoder) fail(i int, what string) {
	if d.err == nil {
		d.err = fmt.Errorf("column %d: %s", i, what)
	}
}

func (d *rawDecoder) text(i int) string {
	return d.in.of(d.vals[i])
}

// unique reads a text value not worth interning (a source id).
func (d *rawDecoder) unique(i int) string { return string(d.vals[i]) }

func (d *rawDecoder) date(i int) clinical.NullDate {
	b := d.vals[i]
	switch {
	case b == nil:
		return clinical.NullDate{}
	case d.formats[i] != pgtype.BinaryFormatCode || len(b) != 4:
		d.fail(i, "date not in 4-byte binary form")
		return clinical.NullDate{}
	}
	return clinical.Some(clinical.Date(int32(binary.BigEndian.Uint32(b)) + pgEpochDays))
}

func (d *rawDecoder) timestamp(i int) time.Time {
	b := d.vals[i]
	switch {
	case b == nil:
		return time.Time{}
	case d.formats[i] != pgtype.BinaryFormatCode || len(b) != 8:
		d.fail(i, "timestamptz not in 8-byte binary form")
		return time.Time{}
	}
	return pgEpoch.Add(time.Duration(int64(binary.BigEndian.Uint64(b))) * time.Microsecond)
}

// textArray decodes a one-dimensional text[] in binary form: ndim, flags,
// element type, then length and lower bound per dimension, then each element
// as a length (-1 for NULL) and its bytes.
func (d *rawDecoder) textArray(i int) []string {
	b := d.vals[i]
	if b == nil {
		return nil
	}
	if d.formats[i] != pgtype.BinaryFormatCode || len(b) < 12 {
		d.fail(i, "text[] not in binary form")
		return nil
	}
	ndim := binary.BigEndian.Uint32(b)
	if ndim == 0 {
		return nil
	}
	if ndim != 1 || len(b) < 20 {
		d.fail(i, "text[] with more than one dimension")
		return nil
	}
	n := int(int32(binary.BigEndian.Uint32(b[12:])))
	b = b[20:]
	out := make([]string, n)
	for k := 0; k < n; k++ {
		if len(b) < 4 {
			d.fail(i, "text[] truncated")
			return nil
		}
		l := int(int32(binary.BigEndian.Uint32(b)))
		b = b[4:]
		if l < 0 {
			continue // NULL element: the columns never hold one; read as ""
		}
		if len(b) < l {
			d.fail(i, "text[] truncated")
			return nil
		}
		out[k] = d.in.of(b[:l])
		b = b[l:]
	}
	return out
}

// encounterScanner returns a scan function for encounterReader's columns
// that decodes every row of one query with one decoder.
func encounterScanner(in interner) func(pgx.CollectableRow) (clinical.Encounter, error) {
	d := newRawDecoder(in)
	return func(r pgx.CollectableRow) (clinical.Encounter, error) { return d.encounter(r) }
}

func (d *rawDecoder) encounter(r pgx.CollectableRow) (clinical.Encounter, error) {
	d.row(r)
	if len(d.vals) != 16 {
		return clinical.Encounter{}, fmt.Errorf("encounter row has %d columns, want 16", len(d.vals))
	}
	e := clinical.Encounter{
		TIN: d.text(0), SourceID: d.unique(1), PatientID: d.unique(2), RenderingNPI: d.text(3),
		End: d.date(5), StartAt: d.timestamp(6), EndAt: d.timestamp(7),
		Class: clinical.EncounterClass(d.text(8)), POS: d.text(9),
		Lines:     joinLines(d.textArray(10), d.textArray(11), d.textArray(12)),
		Diagnoses: joinCodes(d.textArray(13), d.textArray(14)),
		Discharge: d.date(15),
	}
	start := d.date(4)
	if !start.Valid && d.err == nil {
		d.fail(4, "start_date is NULL")
	}
	e.Start = start.Date
	return e, d.err
}
