package ingest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// MaxLineBytes bounds one NDJSON line, so a file without newlines cannot
// exhaust memory.
const MaxLineBytes = 16 << 20

// ReadNDJSON reads Liaison's native NDJSON: one API Record in its JSON form
// per line (e.g. {"patient":{"tin":"123456789","sourceId":"p1",...}}).
// Blank lines are skipped. An error names the line and what is wrong with it.
func ReadNDJSON(r io.Reader) ([]*pb.Record, error) {
	var out []*pb.Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	for line := 1; sc.Scan(); line++ {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		rec := &pb.Record{}
		if err := protojson.Unmarshal(b, rec); err != nil {
			return nil, fmt.Errorf("line %d: not a Liaison record: %v", line, err)
		}
		out = append(out, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading NDJSON: %w", err)
	}
	return out, nil
}
