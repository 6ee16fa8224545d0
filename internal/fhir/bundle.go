package fhir

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/liaison-registry/liaison/internal/source"
)

// MaxEntryBytes bounds one element of a Bundle read as a stream (an entry,
// or another member such as Bundle.link), so that memory follows the
// largest entry rather than the Bundle.
const MaxEntryBytes = MaxLineBytes

// maxEntryBytes is MaxEntryBytes; tests lower it.
var maxEntryBytes = MaxEntryBytes

// readChunk caps each read the decoder makes: a line number is found by
// counting the newlines the decoder holds past its position, so that must
// stay small after a large entry has grown the decoder's buffer.
const readChunk = 8 << 10

var errEntryTooLarge = errors.New("Bundle element too large")

// walkBundle steps dec through a Bundle object: entry is called with the
// decoder before each element of Bundle.entry, other members are skipped.
// The in-memory and the streaming readers share it, so both read the same
// entries from the same bytes.
func walkBundle(dec *json.Decoder, entry func() error) error {
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return cmp.Or(err, errNotObject)
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		if key, _ := t.(string); key != "entry" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return cmp.Or(err, errNotArray)
		}
		for dec.More() {
			if err := entry(); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return err
		}
	}
	return nil
}

var (
	errNotObject = errors.New("the Bundle is not a JSON object")
	errNotArray  = errors.New("Bundle.entry is not an array")
)

// bundleStream reads a Bundle's entries one at a time from a reader.
type bundleStream struct {
	name string
	in   *boundedInput
	dec  *json.Decoder
	raw  json.RawMessage // the entry just read; reused, so callers copy what they keep
}

func newBundleStream(name string, r io.Reader, max int) *bundleStream {
	in := &boundedInput{r: r, max: int64(max)}
	in.dec = json.NewDecoder(in)
	return &bundleStream{name: name, in: in, dec: in.dec}
}

// each calls fn with each entry and the line it starts on, in order. An
// entry that is not one (not an object, a fullUrl not a string) comes with
// its problem and the next is read; a Bundle that is not valid JSON or is
// cut short ends with a problem at the line reading stopped, after the
// entries before it. The error each returns ends the file: fn's, the
// file's, or an element over the bound.
func (s *bundleStream) each(fn func(line int, e entry, bad *source.Problem) error) error {
	var stop error
	err := walkBundle(s.dec, func() error {
		if err := s.dec.Decode(&s.raw); err != nil {
			return err
		}
		line := s.in.line() - bytes.Count(s.raw, []byte("\n"))
		e, err := parseEntry(s.raw)
		var bad *source.Problem
		if err != nil {
			bad = &source.Problem{Path: "Bundle.entry", Rule: "json.shape", Message: "not a Bundle entry: an entry is an object with a fullUrl string and a resource"}
		}
		stop = fn(line, e, bad)
		return stop
	})
	switch {
	case stop != nil:
		return stop
	case s.in.err == errEntryTooLarge:
		return fmt.Errorf("%s:%d: a Bundle entry (or other element) over %s: Liaison reads a Bundle one entry at a time, each at most that long", s.name, s.in.lineAhead(), sizeOf(int(s.in.max)))
	case s.in.err != nil:
		return s.in.err
	case err == errNotArray || err == errNotObject:
		// The decoder read a token of the wrong kind: the line is its own.
		return fn(s.in.line(), entry{}, bundleProblem(err))
	case err != nil:
		// The decoder stopped at what it could not read: the line is
		// that of its first byte.
		return fn(s.in.lineAhead(), entry{}, bundleProblem(err))
	}
	return nil
}

// bundleProblem says why a Bundle stopped being read.
func bundleProblem(err error) *source.Problem {
	p := &source.Problem{Rule: "json.syntax"}
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		p.Message = "the Bundle is cut short: the file ends inside it, so the rest of the Bundle is missing"
	case err == errNotArray:
		p.Path, p.Rule, p.Message = "Bundle.entry", "json.shape", err.Error()
	case err == errNotObject:
		p.Message = err.Error()
	default:
		p.Message = "the Bundle is not valid JSON here, so the rest of it is not read: " + err.Error()
	}
	return p
}

// parseEntry reads an entry's fullUrl and resource as json.Unmarshal into
// an entry would, at the speed of a byte scan: raw is one value the decoder
// has checked. What the scan does not take as it is (an escaped key, a key
// matching only without case, a fullUrl that is not a plain string, an
// entry that is not an object) goes to json.Unmarshal.
func parseEntry(raw []byte) (entry, error) {
	var e entry
	plain := len(raw) > 0 && raw[0] == '{'
	if plain {
		eachField(raw, func(key, val []byte) bool {
			switch {
			case string(key) == "resource":
				e.Resource = val
			case string(key) == "fullUrl" && plainString(val):
				e.FullURL = string(val[1 : len(val)-1])
			case string(key) == "fullUrl", bytes.IndexByte(key, '\\') >= 0,
				bytes.EqualFold(key, []byte("resource")), bytes.EqualFold(key, []byte("fullUrl")):
				plain = false
			}
			return plain
		})
	}
	if plain {
		return e, nil
	}
	e = entry{}
	err := json.Unmarshal(raw, &e)
	return e, err
}

// plainString reports whether a JSON string value reads as its bytes: no
// escapes, valid UTF-8.
func plainString(v []byte) bool {
	return len(v) >= 2 && v[0] == '"' && bytes.IndexByte(v[1:len(v)-1], '\\') < 0 && utf8.Valid(v)
}

// boundedInput feeds a Bundle's decoder from the file. It counts newlines,
// so that entries get their lines, and refuses to let the decoder hold more
// than max bytes it has not consumed: the decoder keeps only the element it
// is reading, so that is the bound on one element, enforced before the
// element is read whole.
type boundedInput struct {
	r         io.Reader
	dec       *json.Decoder
	max       int64
	read      int64 // bytes given to the decoder
	blankTail int64 // how many of them, at the end, are blank
	newlines  int   // in the bytes read from r, given or dropped
	err       error // from r, or errEntryTooLarge; it ends the file
}

func (in *boundedInput) Read(p []byte) (int, error) {
	held := in.read - in.dec.InputOffset()
	if held >= in.max {
		in.err = errEntryTooLarge
		return 0, in.err
	}
	p = p[:min(int64(len(p)), in.max-held, readChunk)]
	for {
		n, err := in.r.Read(p)
		in.newlines += bytes.Count(p[:n], []byte("\n"))
		if held <= in.blankTail {
			// The decoder holds only blanks: it is between tokens, where
			// more blanks change nothing. Dropping them keeps it from
			// scanning a long run of them again on every read.
			if i := skipSpace(p[:n], 0); i > 0 {
				n = copy(p, p[i:n])
			}
		}
		in.noteBlanks(p[:n])
		in.read += int64(n)
		if err != nil && err != io.EOF {
			in.err = err
		}
		if n > 0 || err != nil {
			return n, err
		}
	}
}

// noteBlanks keeps blankTail up to date after b is given.
func (in *boundedInput) noteBlanks(b []byte) {
	i := len(b)
	for i > 0 && isBlank(b[i-1]) {
		i--
	}
	if i == 0 {
		in.blankTail += int64(len(b))
	} else {
		in.blankTail = int64(len(b) - i)
	}
}

// line is the line of the decoder's position: the decoder reads ahead, so
// the newlines it holds past its position are not yet passed.
func (in *boundedInput) line() int {
	var ahead newlineCount
	io.Copy(&ahead, in.dec.Buffered()) // a bytes.Reader: writes its slice, copies nothing
	return 1 + in.newlines - int(ahead)
}

// lineAhead is the line of the first byte past the decoder's position that
// is not blank: where the element it stopped in starts.
func (in *boundedInput) lineAhead() int {
	rest, _ := io.ReadAll(in.dec.Buffered())
	return 1 + in.newlines - bytes.Count(rest[skipSpace(rest, 0):], []byte("\n"))
}

type newlineCount int

func (c *newlineCount) Write(p []byte) (int, error) {
	*c += newlineCount(bytes.Count(p, []byte("\n")))
	return len(p), nil
}

// sizeOf writes a bound for a message: in MiB, or in the smaller units of
// the bounds tests set.
func sizeOf(n int) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
