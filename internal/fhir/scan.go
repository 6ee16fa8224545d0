package fhir

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"

	"github.com/liaison-registry/liaison/internal/source"
)

// MaxLineBytes bounds one NDJSON line (one resource), so a file without
// newlines cannot exhaust memory.
const MaxLineBytes = source.MaxLineBytes

// MaxDocumentBytes bounds a FHIR JSON document that is read whole: one
// resource, or a Bundle whose resourceType is not in its first peekBytes.
// A Bundle that says what it is up front is streamed, whatever its size,
// each entry bounded by MaxEntryBytes. A larger export is sent as NDJSON,
// one resource per line, as bulk data is.
const MaxDocumentBytes = 256 << 20

// maxDocumentBytes is MaxDocumentBytes; tests lower it.
var maxDocumentBytes = MaxDocumentBytes

// peekBytes is how much of a JSON document is looked at to tell a Bundle:
// the read buffer's size.
const peekBytes = 1 << 20

// item is one resource as read: its raw JSON and where it starts.
type item struct {
	file    string
	line    int
	data    []byte
	fullURL string          // Bundle.entry.fullUrl, for urn:uuid references
	typ     string          // top-level resourceType, "" when unreadable
	bad     *source.Problem // why a streamed Bundle has no resource here
}

// peekType returns the top-level "resourceType" of a JSON object without
// decoding it; contained resources (nested deeper) do not count. It returns
// "" when it finds none, and the full decode later reports why.
func peekType(b []byte) string {
	typ := ""
	eachField(b, func(key, val []byte) bool {
		if string(key) == "resourceType" {
			if len(val) >= 2 && val[0] == '"' {
				typ = string(val[1 : len(val)-1])
			}
			return false
		}
		return true
	})
	return typ
}

// eachField calls fn with each top-level key of a JSON object and its raw
// value, until fn returns false, at the speed of a byte scan: the first pass
// uses it to decode only the few elements it keeps. It does not validate
// (the second pass's full decode does) and stops at anything malformed.
func eachField(b []byte, fn func(key, val []byte) bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return
	}
	i++
	for {
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != '"' {
			return
		}
		end := skipString(b, i)
		if end < 0 {
			return
		}
		key := b[i+1 : end]
		i = skipSpace(b, end+1)
		if i >= len(b) || b[i] != ':' {
			return
		}
		i = skipSpace(b, i+1)
		vend := skipValue(b, i)
		if vend < 0 {
			return
		}
		if !fn(key, b[i:vend]) {
			return
		}
		i = skipSpace(b, vend)
		if i >= len(b) || b[i] != ',' {
			return
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && isBlank(b[i]) {
		i++
	}
	return i
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipValue returns the index just past the JSON value starting at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		e := skipString(b, i)
		if e < 0 {
			return -1
		}
		return e + 1
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				if j = skipString(b, j); j < 0 {
					return -1
				}
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\n' && b[j] != '\r' && b[j] != '\t' {
		j++
	}
	return j
}

// walkFile reads one file as NDJSON (one resource per line) or as a single
// JSON document (a Bundle or one resource) and calls fn with batches of
// items. Bundles, wherever they appear, are expanded into their entries.
// keep is called for every item, on the reading goroutine, in input order,
// and filters items before they are copied.
func walkFile(ctx context.Context, path string, keep func(it *item) bool, fn func([]item) error) error {
	f, err := source.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, peekBytes)
	name := path
	b := &batcher{fn: fn, keep: keep}
	if isDocument(path, br) {
		if err := b.document(ctx, name, br); err != nil {
			return err
		}
		return b.flush()
	}
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, 0, 256<<10), MaxLineBytes)
	for line := 1; sc.Scan(); line++ {
		if line%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		data := bytes.TrimSpace(sc.Bytes())
		if len(data) == 0 {
			continue
		}
		if err := b.add(item{file: name, line: line, data: data}); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return b.flush()
}

// isDocument reports whether a file holds one JSON document rather than
// NDJSON: .json files, unless their first line is already a whole object
// (NDJSON saved as .json).
func isDocument(path string, br *bufio.Reader) bool {
	ext := source.Ext(path)
	if ext == ".ndjson" || ext == ".jsonl" {
		return false
	}
	head, _ := br.Peek(MaxLineBytes)
	first, rest, found := bytes.Cut(head, []byte("\n"))
	first = bytes.TrimSpace(first)
	return !(found && json.Valid(first) && len(bytes.TrimSpace(rest)) > 0 && bytes.TrimSpace(rest)[0] == '{')
}

// document reads one JSON document: a Bundle as a stream of entries when
// its head says it is one, anything else whole.
func (b *batcher) document(ctx context.Context, name string, br *bufio.Reader) error {
	head, _ := br.Peek(peekBytes)
	if peekType(head) == "Bundle" {
		return b.stream(ctx, name, br)
	}
	data, err := io.ReadAll(io.LimitReader(br, int64(maxDocumentBytes)+1))
	if err != nil {
		return err
	}
	if len(data) > maxDocumentBytes {
		return fmt.Errorf("%s: a FHIR document over %s that does not start as a Bundle (a Bundle with its resourceType in its first MiB is read entry by entry, at any size); send an export this large as NDJSON (one resource per line, as FHIR bulk data)", name, sizeOf(maxDocumentBytes))
	}
	return b.add(item{file: name, line: 1 + leadingLines(data), data: data})
}

// stream reads a Bundle one entry at a time: memory follows the largest
// entry, not the Bundle.
func (b *batcher) stream(ctx context.Context, name string, r io.Reader) error {
	n := 0
	return newBundleStream(name, r, maxEntryBytes).each(func(line int, e entry, bad *source.Problem) error {
		if n++; n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if bad != nil {
			return b.add(item{file: name, line: line, bad: bad})
		}
		return b.entry(name, line, e)
	})
}

func leadingLines(b []byte) int {
	n := 0
	for _, c := range b {
		switch c {
		case '\n':
			n++
		case ' ', '\t', '\r':
		default:
			return n
		}
	}
	return n
}

// batcher groups items, expanding Bundles, copying data it keeps (the
// scanner reuses its buffer).
type batcher struct {
	fn   func([]item) error
	keep func(*item) bool
	cur  []item
}

const batchItems = 256

func (b *batcher) add(it item) error {
	it.typ = peekType(it.data)
	if it.typ == "Bundle" {
		return b.bundle(it)
	}
	if !b.keep(&it) {
		return nil
	}
	it.data = bytes.Clone(it.data)
	b.cur = append(b.cur, it)
	if len(b.cur) >= batchItems {
		return b.flush()
	}
	return nil
}

func (b *batcher) flush() error {
	if len(b.cur) == 0 {
		return nil
	}
	err := b.fn(b.cur)
	b.cur = nil
	return err
}

// bundle expands a Bundle's entries, each with the line it starts on. A
// Bundle that does not parse becomes one item, so its error is reported.
func (b *batcher) bundle(it item) error {
	entries, err := bundleEntries(it.data)
	if err != nil {
		it.typ = ""
		if b.keep(&it) {
			it.data = bytes.Clone(it.data)
			b.cur = append(b.cur, it)
		}
		return nil
	}
	// it.line is the line of the Bundle's first byte that is not blank.
	line, from := it.line, int64(skipSpace(it.data, 0))
	for _, e := range entries {
		// Count from the previous entry, not from the start: counting each
		// entry's prefix anew took time quadratic in the Bundle's size.
		line += bytes.Count(it.data[from:e.offset], []byte("\n"))
		from = e.offset
		if err := b.entry(it.file, line, e); err != nil {
			return err
		}
	}
	return nil
}

// entry adds a Bundle entry's resource, with the line the entry starts on.
func (b *batcher) entry(file string, line int, e entry) error {
	res := bytes.TrimSpace(e.Resource)
	if len(res) == 0 || bytes.Equal(res, []byte("null")) {
		return nil // a transaction DELETE or a response entry carries no resource
	}
	return b.add(item{file: file, line: line, data: e.Resource, fullURL: e.FullURL})
}

type entry struct {
	FullURL  string          `json:"fullUrl"`
	Resource json.RawMessage `json:"resource"`
	offset   int64
}

// bundleEntries decodes the Bundle.entry of a Bundle in memory (nested in
// an entry, or read whole) with each entry's byte offset, so problems name
// the line of the entry rather than of the Bundle.
func bundleEntries(data []byte) ([]entry, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []entry
	err := walkBundle(dec, func() error {
		off := dec.InputOffset()
		var e entry
		if err := dec.Decode(&e); err != nil {
			return err
		}
		e.offset = off + int64(leadingSpace(data[off:]))
		out = append(out, e)
		return nil
	})
	return out, err
}

func leadingSpace(b []byte) int {
	for i, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ',' {
			return i
		}
	}
	return len(b)
}

// pipeline reads files in order, runs work on each kept item on several
// goroutines, and calls emit with the results in input order, so output is
// deterministic however many workers run.
func pipeline[T any](ctx context.Context, files []string, keep func(*item) bool, work func(*item) T, emit func(*item, T) error) error {
	workers := runtime.GOMAXPROCS(0)
	type job struct {
		items []item
		out   []T
		done  chan struct{}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan *job, workers*2)
	ordered := make(chan *job, workers*4)
	for w := 0; w < workers; w++ {
		go func() {
			for j := range jobs {
				j.out = make([]T, len(j.items))
				for i := range j.items {
					j.out[i] = work(&j.items[i])
				}
				close(j.done)
			}
		}()
	}
	readErr := make(chan error, 1)
	go func() {
		defer close(ordered)
		defer close(jobs)
		for _, f := range files {
			err := walkFile(ctx, f, keep, func(items []item) error {
				j := &job{items: items, done: make(chan struct{})}
				select {
				case ordered <- j:
				case <-ctx.Done():
					return ctx.Err()
				}
				jobs <- j
				return nil
			})
			if err != nil {
				readErr <- err
				return
			}
		}
		readErr <- nil
	}()
	for j := range ordered {
		<-j.done
		for i := range j.items {
			if err := emit(&j.items[i], j.out[i]); err != nil {
				cancel()
				for j := range ordered { // let the reader and workers finish
					<-j.done
				}
				return err
			}
		}
	}
	return <-readErr
}

// skipString returns the index of the quote closing the string that opens at
// b[i], or -1. It jumps from quote to quote (bytes.IndexByte is vectorised)
// and counts the backslashes before each.
func skipString(b []byte, i int) int {
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		q := j + k
		n := 0
		for p := q - 1; p > i && b[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			return q
		}
		j = q + 1
	}
}
