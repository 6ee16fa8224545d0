package synth

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"

	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// FilePattern names the NDJSON files WriteNDJSON writes, numbered from 1.
const FilePattern = "records-%05d.ndjson"

// WriteNDJSON writes the reference records, then patients 0..n-1, as
// Liaison's native NDJSON (one API Record in its JSON form per line, what
// `liaison evaluate` and the ingest stream read) into dir, starting a new
// file once one holds linesPerFile lines (at a patient boundary, so a
// patient's records stay in one file). The output is byte-identical for
// the same options and n. progress, if not nil, is called with the number
// of patients written so far. It returns the files written and the number
// of records.
func (g *Generator) WriteNDJSON(dir string, n, linesPerFile int, progress func(done int)) (files []string, records int, err error) {
	if old, _ := filepath.Glob(filepath.Join(dir, "records-*.ndjson")); len(old) > 0 {
		return nil, 0, fmt.Errorf("%s already holds generated files (%s): remove them or choose another directory", dir, filepath.Base(old[0]))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, err
	}
	w := &fileWriter{dir: dir, limit: max(linesPerFile, 1)}
	defer w.close()
	ref, err := encode(g.Reference())
	if err != nil {
		return nil, 0, err
	}
	if err := w.write(ref, len(g.practices)+len(g.clinicians)); err != nil {
		return nil, 0, err
	}
	// Patients are encoded on all CPUs in blocks and written in order.
	workers := runtime.GOMAXPROCS(0)
	const per = 256
	type chunk struct {
		buf   []byte
		lines int
		err   error
	}
	for start := 0; start < n; start += workers * per {
		out := make([][]chunk, workers)
		var wg sync.WaitGroup
		for k := range workers {
			from := start + k*per
			wg.Go(func() {
				for i := from; i < min(from+per, n); i++ {
					recs := g.Records(i)
					b, err := encode(recs)
					out[k] = append(out[k], chunk{b, len(recs), err})
				}
			})
		}
		wg.Wait()
		for _, cs := range out {
			for _, c := range cs {
				if c.err != nil {
					return nil, 0, c.err
				}
				if err := w.write(c.buf, c.lines); err != nil {
					return nil, 0, err
				}
			}
		}
		if progress != nil {
			progress(min(start+workers*per, n))
		}
	}
	if err := w.close(); err != nil {
		return nil, 0, err
	}
	return w.files, w.records, nil
}

// encode renders records as NDJSON lines. protojson varies its whitespace
// from build to build on purpose; compacting makes the bytes depend on the
// data alone.
func encode(recs []*pb.Record) ([]byte, error) {
	var out bytes.Buffer
	for _, r := range recs {
		b, err := protojson.Marshal(r)
		if err != nil {
			return nil, err
		}
		if err := json.Compact(&out, b); err != nil {
			return nil, err
		}
		out.WriteByte('\n')
	}
	return out.Bytes(), nil
}

// fileWriter writes lines into numbered files of about limit lines each.
type fileWriter struct {
	dir          string
	limit, lines int
	records      int
	files        []string
	f            *os.File
	bw           *bufio.Writer
}

func (w *fileWriter) write(b []byte, lines int) error {
	if w.f == nil || w.lines >= w.limit {
		if err := w.close(); err != nil {
			return err
		}
		name := filepath.Join(w.dir, fmt.Sprintf(FilePattern, len(w.files)+1))
		f, err := os.Create(name)
		if err != nil {
			return err
		}
		w.f, w.bw, w.lines = f, bufio.NewWriterSize(f, 1<<20), 0
		w.files = append(w.files, name)
	}
	w.lines += lines
	w.records += lines
	_, err := w.bw.Write(b)
	return err
}

func (w *fileWriter) close() error {
	if w.f == nil {
		return nil
	}
	err := w.bw.Flush()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	w.f = nil
	return err
}
