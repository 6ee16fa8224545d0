package ingest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/liaison-registry/liaison/internal/schema"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// MaxLineBytes bounds one NDJSON line, so a file without newlines cannot
// exhaust memory.
const MaxLineBytes = 16 << 20

// EachNDJSON reads Liaison's native NDJSON: one API Record in its JSON form
// per line (e.g. {"patient":{"tin":"123456789","sourceId":"p1",...}}). It
// calls fn for every non-blank line with the record, or with why the line
// is not one; it returns an error only when reading fails. Lines decode as
// REST bodies do (schema.UnmarshalJSON): an unknown key or enum name is
// kept, so Convert rejects the record naming the field, as the server would.
func EachNDJSON(r io.Reader, fn func(line int, rec *pb.Record, err error)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		rec := &pb.Record{}
		if err := schema.UnmarshalJSON(b, rec); err != nil {
			fn(line, nil, fmt.Errorf("not a Liaison record: %w", err))
			continue
		}
		fn(line, rec, nil)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading NDJSON: %w", err)
	}
	return nil
}

// ReadNDJSON reads a whole native NDJSON input, stopping at the first line
// that is not a record; the error names the line.
func ReadNDJSON(r io.Reader) ([]*pb.Record, error) {
	var out []*pb.Record
	var first error
	err := EachNDJSON(r, func(line int, rec *pb.Record, err error) {
		switch {
		case first != nil:
		case err != nil:
			first = fmt.Errorf("line %d: %w", line, err)
		default:
			out = append(out, rec)
		}
	})
	if first != nil {
		return nil, first
	}
	return out, err
}
