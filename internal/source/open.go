package source

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Open opens an input file, decompressing it when its name ends in .gz:
// bulk-data servers often serve their NDJSON gzipped, and claims extracts
// travel compressed.
func Open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(filepath.Ext(path), ".gz") {
		return f, nil
	}
	in := &counter{r: f}
	z, err := gzip.NewReader(in)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: not gzip data: %w", path, err)
	}
	return &gzipFile{z: z, f: f, in: in, path: path}, nil
}

// MaxRatio bounds how many times its compressed size a .gz file may
// expand to (checked once it has given ratioFrom bytes): FHIR and CSV
// exports compress 5 to 30 times; a file of blanks, 1000 times and more.
const (
	MaxRatio  = 200
	ratioFrom = 16 << 20
)

// gzipFile is a .gz input that refuses to expand past MaxRatio.
type gzipFile struct {
	z    *gzip.Reader
	f    *os.File
	in   *counter
	out  int64
	path string
}

func (g *gzipFile) Read(p []byte) (int, error) {
	n, err := g.z.Read(p)
	g.out += int64(n)
	if g.out > ratioFrom && g.out > MaxRatio*max(g.in.n, 1) {
		return n, fmt.Errorf("%s: expands more than %d times its compressed size (%d MiB from %d KiB so far): not an export Liaison reads, or a decompression bomb",
			g.path, MaxRatio, g.out>>20, g.in.n>>10)
	}
	return n, err
}

func (g *gzipFile) Close() error {
	err := g.z.Close()
	if ferr := g.f.Close(); err == nil {
		err = ferr
	}
	return err
}

// counter counts the bytes read through it.
type counter struct {
	r io.Reader
	n int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// MaxLineBytes bounds one line of a text input (a CSV row, an NDJSON
// record), so a file without line breaks cannot exhaust memory.
const MaxLineBytes = 64 << 20

// Lines wraps r so that reading fails, naming the file and line, once a
// line exceeds max bytes.
func Lines(r io.Reader, name string, max int) io.Reader {
	return &lines{r: r, name: name, max: max, line: 1}
}

type lines struct {
	r        io.Reader
	name     string
	max, cur int
	line     int
}

func (l *lines) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			l.line++
			l.cur = 0
			continue
		}
		if l.cur++; l.cur > l.max {
			return 0, fmt.Errorf("%s:%d: a line longer than %d MiB: not a CSV or NDJSON export", l.name, l.line, l.max>>20)
		}
	}
	return n, err
}

// Ext is a file's extension, lower-cased, under any .gz: "export/Patient.ndjson.gz" → ".ndjson".
func Ext(path string) string {
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".gz" {
		ext = strings.ToLower(filepath.Ext(strings.TrimSuffix(path, filepath.Ext(path))))
	}
	return ext
}
