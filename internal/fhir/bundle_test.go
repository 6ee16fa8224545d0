package fhir

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/liaison-registry/liaison/internal/source"
)

// got is an item as the tests compare it.
type got struct {
	line          int
	fullURL, data string
	rule          string // the problem of an item the reader could not read
}

func (g got) String() string {
	return fmt.Sprintf("line %d %s %q %s", g.line, g.rule, g.fullURL, g.data)
}

// walk reads a file as the reader's passes do, keeping every item.
func walk(t *testing.T, path string) ([]got, error) {
	t.Helper()
	var out []got
	err := walkFile(context.Background(), path, func(*item) bool { return true }, func(items []item) error {
		for _, it := range items {
			g := got{line: it.line, fullURL: it.fullURL, data: string(it.data)}
			if it.bad != nil {
				g.rule = it.bad.Rule
			}
			out = append(out, g)
		}
		return nil
	})
	return out, err
}

// bundleWriter writes a Bundle the ways exporters space one (entries on
// one line or pretty-printed, blank lines, newlines before commas, CRLF,
// entries without a resource, a Bundle inside an entry) and notes the
// item each entry should give, with its line.
type bundleWriter struct {
	bytes.Buffer
	want           []got
	counted, lines int
}

func (w *bundleWriter) line() int {
	w.lines += bytes.Count(w.Bytes()[w.counted:], []byte("\n"))
	w.counted = w.Len()
	return 1 + w.lines
}

func (w *bundleWriter) expect(fullURL, resource string) {
	w.want = append(w.want, got{line: w.line(), fullURL: fullURL, data: resource})
}

func (w *bundleWriter) entry(i int) {
	patient := fmt.Sprintf(`{"resourceType":"Patient","id":"p%d"}`, i)
	switch i % 6 {
	case 0:
		w.expect(fmt.Sprintf("urn:uuid:%d", i), patient)
		fmt.Fprintf(w, `{"fullUrl":"urn:uuid:%d","resource":%s}`, i, patient)
	case 1:
		pretty := fmt.Sprintf("{\n      \"resourceType\": \"Patient\",\n      \"id\": \"p%d\"\n    }", i)
		w.expect("", pretty)
		fmt.Fprintf(w, "{\n    \"resource\": %s,\n    \"request\": {\"method\": \"PUT\"}\n  }", pretty)
	case 2:
		w.WriteString(`{"request":{"method":"DELETE","url":"Patient/x"}}`) // no resource: no item
	case 3:
		w.WriteString(`{"fullUrl":"urn:uuid:null","resource":null}`)
	case 4:
		w.WriteString("{\"resource\": {\"resourceType\": \"Bundle\", \"entry\": [\n")
		w.expect("urn:uuid:n1", patient)
		fmt.Fprintf(w, "  {\"fullUrl\": \"urn:uuid:n1\", \"resource\": %s},\n\n  ", patient)
		w.expect("", `{"resourceType":"Condition"}`)
		w.WriteString(`{"resource": {"resourceType":"Condition"}}]}}`)
	case 5:
		// an escaped fullUrl and a resource before the fullUrl
		w.expect("urn:uuid:é", patient)
		fmt.Fprintf(w, `{"resource":%s,"fullUrl":"urn:uuid:\u00e9"}`, patient)
	}
}

var separators = []string{",\n  ", "\n,\n\n", ", ", ",\r\n"}

// writeBundle writes a Bundle of n entries (resourceType before or after
// them) and returns its path and the items it should give.
func writeBundle(t *testing.T, name string, n int, typeLast bool) (string, []got) {
	t.Helper()
	var w bundleWriter
	w.WriteString("\n{")
	if !typeLast {
		w.WriteString(`"resourceType": "Bundle", `)
	}
	w.WriteString("\"type\": \"collection\", \"link\": [{\"relation\": \"self\"}],\n \"entry\": [\n  ")
	for i := range n {
		if i > 0 {
			w.WriteString(separators[i%len(separators)])
		}
		w.entry(i)
	}
	w.WriteString("\n]")
	if typeLast {
		w.WriteString(`, "resourceType": "Bundle"`)
	}
	w.WriteString("}\n")
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, w.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, w.want
}

// readsAs checks that a file gives the items want.
func readsAs(t *testing.T, path string, want []got) {
	t.Helper()
	items, err := walk(t, path)
	if err != nil {
		t.Fatal(err)
	}
	sameItems(t, items, want)
}

func sameItems(t *testing.T, got, want []got) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d items, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("item %d: %v\nwant %v", i, got[i], want[i])
		}
	}
}

// lower sets a bound for one test.
func lower(t *testing.T, bound *int, to int) {
	old := *bound
	*bound = to
	t.Cleanup(func() { *bound = old })
}

// A Bundle is read one entry at a time, so one larger than the bound on a
// document read whole is read completely, and every entry, nested ones
// too, has the line it starts on.
func TestBundleLargerThanTheDocumentBoundIsReadEntryByEntry(t *testing.T) {
	lower(t, &maxDocumentBytes, 64<<10)
	path, want := writeBundle(t, "big.json", 3000, false)
	if st, _ := os.Stat(path); st.Size() < 4*int64(maxDocumentBytes) {
		t.Fatalf("the Bundle has %d bytes, not well over the bound", st.Size())
	}
	readsAs(t, path, want)
}

// A Bundle whose resourceType comes after its entries is still read: as a
// stream when the first MiB shows the resourceType, otherwise whole.
func TestBundleWithResourceTypeLastIsRead(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
	}{
		{"within the first MiB", 50},
		{"past the first MiB", 25000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, want := writeBundle(t, "last.json", tc.n, true)
			if st, _ := os.Stat(path); (st.Size() > peekBytes) != (tc.n > 50) {
				t.Fatalf("the Bundle has %d bytes", st.Size())
			}
			readsAs(t, path, want)
		})
	}
}

// An entry over the bound stops the file with an error naming the file,
// the entry's line and the bound, and it is refused as it is read: the
// reader stops taking the file's bytes soon after the bound, not at the
// end of the entry. The file is a named pipe, so the writer counts what
// the reader took.
func TestBundleEntryOverTheBoundIsRefusedBeforeItIsReadWhole(t *testing.T) {
	lower(t, &maxEntryBytes, 64<<10)
	path := filepath.Join(t.TempDir(), "huge-entry.json")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no named pipes here:", err)
	}
	entry := 1000 * maxEntryBytes
	written := make(chan int64, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			written <- -1
			return
		}
		defer f.Close()
		head := "{\"resourceType\": \"Bundle\",\n \"entry\": [\n  {\"resource\": {\"resourceType\": \"Patient\", \"id\": \"1\"}},\n  {\"resource\": {\"resourceType\": \"Patient\", \"text\": \""
		n, _ := f.WriteString(head)
		total := int64(n)
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for total < int64(entry) {
			n, err := f.Write(chunk)
			total += int64(n)
			if err != nil {
				break // the reader closed the pipe
			}
		}
		f.WriteString("\"}}]}")
		written <- total
	}()
	_, err := walk(t, path)
	took := <-written
	want := "huge-entry.json:4: a Bundle entry (or other element) over 64 KiB"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("%v, want %q", err, want)
	}
	// What the reader may take past the bound: its 1 MiB read buffer and the pipe's.
	if took < 0 || took > int64(maxEntryBytes)+3<<20 {
		t.Fatalf("the reader took %d bytes of a %d-byte entry before refusing it", took, entry)
	}
}

// A Bundle cut short inside an entry keeps the entries before the cut, as
// an NDJSON file cut inside a line keeps the lines before it, and the cut
// entry is one rejected item at its line, saying the file is cut short.
func TestTruncatedBundleKeepsTheEntriesBeforeTheCut(t *testing.T) {
	full, want := writeBundle(t, "whole.json", 40, false)
	data, _ := os.ReadFile(full)
	k := slices.IndexFunc(want, func(g got) bool { return g.fullURL == "urn:uuid:30" })
	at := bytes.Index(data, []byte(`"p30"`)) // inside that entry
	path := filepath.Join(t.TempDir(), "cut.json")
	if err := os.WriteFile(path, data[:at], 0o644); err != nil {
		t.Fatal(err)
	}
	cutLine := want[k].line
	readsAs(t, path, append(want[:k:k], got{line: cutLine, rule: "json.syntax"}))

	res := read(t, Options{DefaultTIN: "123456789"}, path)
	patients := 0
	for _, g := range want[:k] {
		patients += strings.Count(g.data, "Patient")
	}
	if s := res.Summary; s.Read != k+1 || s.Imported["Patient"] != patients {
		t.Fatalf("summary %+v, want %d items, the %d patients before the cut imported", s, k+1, patients)
	}
	i := slices.IndexFunc(res.Problems, func(p source.Problem) bool { return strings.Contains(p.Message, "cut short") })
	if i < 0 || res.Problems[i].File != path || res.Problems[i].Line != cutLine || res.Problems[i].Flag {
		t.Fatalf("problems %v, want a rejection at %s:%d saying the Bundle is cut short", res.Problems, path, cutLine)
	}
}

// A streamed Bundle that goes wrong is rejected where it goes wrong: an
// entry that is not one alone, the rest of the Bundle at a syntax error.
func TestBundleProblemsAreRejectedWhereTheyAre(t *testing.T) {
	patient := `{"resource":{"resourceType":"Patient","id":"1"}}`
	for _, tc := range []struct {
		name, body string
		want       []got
	}{
		{"an entry that is not an object", `{"resourceType":"Bundle","entry":[` + "\n1,\n" + patient + `]}`,
			[]got{{line: 2, rule: "json.shape"}, {line: 3, data: `{"resourceType":"Patient","id":"1"}`}}},
		{"a fullUrl that is not a string", `{"resourceType":"Bundle","entry":[` + "\n" + `{"fullUrl":7,"resource":{}}]}`,
			[]got{{line: 2, rule: "json.shape"}}},
		{"entry not an array", `{"resourceType":"Bundle",` + "\n" + `"entry":{}}`,
			[]got{{line: 2, rule: "json.shape"}}},
		{"a syntax error", `{"resourceType":"Bundle","entry":[` + patient + ",\n\n" + `{"resource":{"resourceType":"Patient",,}}, ` + patient + `]}`,
			[]got{{line: 1, data: `{"resourceType":"Patient","id":"1"}`}, {line: 3, rule: "json.syntax"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "b.json")
			if err := os.WriteFile(path, []byte(tc.body), 0o644); err != nil {
				t.Fatal(err)
			}
			readsAs(t, path, tc.want)
		})
	}
}

// The bound on a document read whole still holds for what is not a Bundle.
func TestDocumentOverTheBoundThatIsNoBundleIsRefused(t *testing.T) {
	lower(t, &maxDocumentBytes, 64<<10)
	path := filepath.Join(t.TempDir(), "one.json")
	body := `{"resourceType":"Patient","id":"1","text":"` + strings.Repeat("x", 2*maxDocumentBytes) + `"}`
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := walk(t, path)
	if err == nil || !strings.Contains(err.Error(), "one.json: a FHIR document over 64 KiB") {
		t.Fatalf("%v, want the document refused, naming the file and the bound", err)
	}
}
