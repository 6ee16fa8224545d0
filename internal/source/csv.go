package source

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
)

// CSV is a CSV document with a header row (RFC 4180), as Liaison's CSV
// readers take them: the claims extract and the care events.
type CSV struct {
	// Cols are the header's column names (trimmed, lower case, without a
	// byte-order mark) and their positions.
	Cols map[string]int
	r    *csv.Reader
	name string
}

// ReadPath opens path (gzipped or not), its lines bounded as every reader
// bounds them, and reads it with read.
func ReadPath(path string, read func(r io.Reader) (Summary, error)) (Summary, error) {
	f, err := Open(path)
	if err != nil {
		return Summary{}, err
	}
	defer f.Close()
	return read(Lines(f, path, MaxLineBytes))
}

// NewCSV reads the header row of r (name is used in messages): it must name
// every required column, each column once; doc says where the columns are
// documented.
func NewCSV(r io.Reader, name string, required []string, doc string) (*CSV, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked per row, to report the row rather than stop
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty file: the first row must be the header (%s)", name, strings.Join(required, ", "))
		}
		return nil, fmt.Errorf("%s: header: %w", name, err)
	}
	c := &CSV{Cols: map[string]int{}, r: cr, name: name}
	for i, h := range header {
		h = ColumnName(h)
		if _, dup := c.Cols[h]; dup {
			return nil, fmt.Errorf("%s:1: column %q appears twice in the header", name, h)
		}
		c.Cols[h] = i
	}
	for _, col := range required {
		if _, ok := c.Cols[col]; !ok {
			return nil, fmt.Errorf("%s:1: the header has no %q column (required: %s; see %s)", name, col, strings.Join(required, ", "), doc)
		}
	}
	return c, nil
}

// ColumnName is a header cell as a column name: trimmed, lower case, without
// a byte-order mark.
func ColumnName(h string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
}

// Rows calls row for each data row with its fields and origin (file, line,
// item type and ordinal), counting it as read in sum. A row that is not CSV
// is rejected with a csv.syntax problem (through problem) and not passed on.
func (c *CSV) Rows(ctx context.Context, itemType string, sum *Summary, problem func(Problem), row func(fields []string, o Origin) error) error {
	for item := 0; ; item++ {
		if item%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		fields, err := c.r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		o := Origin{File: c.name, Type: itemType, Item: item}
		sum.Read++
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			sum.Rejected++
			o.Line = pe.Line
			problem(Problem{Origin: o, Path: fmt.Sprintf("byte %d", pe.Column), Rule: "csv.syntax", Message: pe.Err.Error()})
			continue
		} else if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		o.Line, _ = c.r.FieldPos(0)
		if err := row(fields, o); err != nil {
			return err
		}
	}
}

// Reporter returns how a reader reports problems: to sink, counting flags in s.
func (s *Summary) Reporter(sink Sink) func(Problem) {
	return func(p Problem) {
		if p.Flag {
			s.Flagged++
		}
		if sink.Problem != nil {
			sink.Problem(p)
		}
	}
}

// Items tells sink.Item about items 0 to s.Read-1 of file, all of type itemType.
func (s *Summary) Items(sink Sink, file, itemType string) {
	if sink.Item != nil {
		for i := 0; i < s.Read; i++ {
			sink.Item(Origin{File: file, Type: itemType, Item: i})
		}
	}
}
