package synth

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

	"google.golang.org/protobuf/encoding/protojson"

	"github.com/liaison-registry/liaison/internal/carecsv"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

// FilePattern names the NDJSON files WriteNDJSON writes, numbered from 1.
const FilePattern = "records-%05d.ndjson"

// WriteNDJSON writes the reference records, then patients 0..n-1, as
// Liaison's native NDJSON (one API Record in its JSON form per line, what
// `liaison evaluate` and the ingest stream read) into dir, starting a new
// file once one holds linesPerFile lines (0: never; at a patient boundary, so a
// patient's records stay in one file). The output is byte-identical for
// the same options and n. progress, if not nil, is called with the number
// of patients written so far. It returns the files written and the number
// of records.
func (g *Generator) WriteNDJSON(dir string, n, linesPerFile int, progress func(done int)) (files []string, records int, err error) {
	file, lines := 0, 0
	place := func(_ string, b []byte) string { // one stream, split by line count
		if file == 0 || (linesPerFile > 0 && lines >= linesPerFile) {
			file, lines = file+1, 0
		}
		lines += bytes.Count(b, newline)
		return fmt.Sprintf(FilePattern, file)
	}
	return g.write(dir, n, progress, func(recs []*pb.Record) (map[string][]byte, error) {
		b, err := encode(recs)
		return map[string][]byte{"": b}, err
	}, place)
}

var newline = []byte{'\n'}

// encoder renders a patient's (or the reference) records as NDJSON lines
// per stream; place names the file a stream's lines go to next.
type encoder func(recs []*pb.Record) (map[string][]byte, error)

// write runs the generator into dir: reference records first, then
// patients encoded on all CPUs in blocks and written in order.
func (g *Generator) write(dir string, n int, progress func(int), enc encoder, place func(stream string, b []byte) string) ([]string, int, error) {
	if old, _ := filepath.Glob(filepath.Join(dir, "*.ndjson")); len(old) > 0 {
		return nil, 0, fmt.Errorf("%s already holds NDJSON files (%s): remove them or choose another directory", dir, filepath.Base(old[0]))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, 0, err
	}
	fw := &files{dir: dir, open: map[string]*bufio.Writer{}}
	defer fw.close()
	put := func(m map[string][]byte) error {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if len(m[k]) == 0 {
				continue
			}
			if err := fw.write(place(k, m[k]), m[k]); err != nil {
				return err
			}
		}
		return nil
	}
	ref, err := enc(g.Reference())
	if err != nil {
		return nil, 0, err
	}
	if err := put(ref); err != nil {
		return nil, 0, err
	}
	workers := runtime.GOMAXPROCS(0)
	const per = 256
	type chunk struct {
		m   map[string][]byte
		err error
	}
	for start := 0; start < n; start += workers * per {
		out := make([][]chunk, workers)
		var wg sync.WaitGroup
		for k := range workers {
			from := start + k*per
			wg.Go(func() {
				for i := from; i < min(from+per, n); i++ {
					m, err := enc(g.Records(i))
					out[k] = append(out[k], chunk{m, err})
				}
			})
		}
		wg.Wait()
		for _, cs := range out {
			for _, c := range cs {
				if c.err != nil {
					return nil, 0, c.err
				}
				if err := put(c.m); err != nil {
					return nil, 0, err
				}
			}
		}
		if progress != nil {
			progress(min(start+workers*per, n))
		}
	}
	if err := fw.close(); err != nil {
		return nil, 0, err
	}
	return fw.names, fw.lines, nil
}

// encode renders records as NDJSON lines. protojson varies its whitespace
// from build to build on purpose; compacting makes the bytes depend on the
// data alone.
func encode(recs []*pb.Record) ([]byte, error) {
	var out, buf []byte
	var err error
	opts := protojson.MarshalOptions{}
	for _, r := range recs {
		if buf, err = opts.MarshalAppend(buf[:0], r); err != nil {
			return nil, err
		}
		out = append(compact(out, buf), '\n')
	}
	return out, nil
}

// compact appends src without whitespace outside strings: protojson's
// output is valid JSON, so this need not validate as json.Compact does.
func compact(dst, src []byte) []byte {
	inString, escaped := false, false
	for _, c := range src {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case !inString && (c == ' ' || c == '\n' || c == '\t' || c == '\r'):
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

// files writes to named files in dir, keeping only the current one of a
// stream open; a name seen again after another was opened is appended to.
type files struct {
	dir   string
	names []string
	open  map[string]*bufio.Writer
	fs    []*os.File
	lines int
}

func (w *files) write(name string, b []byte) error {
	bw := w.open[name]
	if bw == nil {
		f, err := os.Create(filepath.Join(w.dir, name))
		if err != nil {
			return err
		}
		bw = bufio.NewWriterSize(f, 256<<10)
		if name == careCSV { // a CSV starts with its header row
			hw := csv.NewWriter(bw)
			if err := hw.Write(carecsv.Header()); err != nil {
				return err
			}
			if hw.Flush(); hw.Error() != nil {
				return hw.Error()
			}
		}
		w.open[name] = bw
		w.fs = append(w.fs, f)
		w.names = append(w.names, filepath.Join(w.dir, name))
	}
	w.lines += bytes.Count(b, newline)
	_, err := bw.Write(b)
	return err
}

func (w *files) close() error {
	var first error
	for i, f := range w.fs {
		if bw := w.open[filepath.Base(w.names[i])]; bw != nil {
			if err := bw.Flush(); err != nil && first == nil {
				first = err
			}
		}
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	w.fs, w.open = nil, map[string]*bufio.Writer{}
	return first
}
