package input

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/source/sourcetest"
)

func TestDetect(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name, file, body string
		want             Format
	}{
		{"fhir ndjson", "Patient.ndjson", "\n{\"resourceType\":\"Patient\",\"id\":\"1\"}\n", FHIR},
		{"native ndjson", "export.ndjson", "{\"patient\":{\"tin\":\"123456789\"}}\n", Native},
		{"bundle", "b.json", "{\n \"resourceType\": \"Bundle\"}", FHIR},
		{"csv", "claims.CSV", "patient_id\n", ClaimsCSV},
		{"care events csv", "fls.csv", "\ufeffPatient_ID,Event_ID,Kind,Date\np1,e1,fls_assessment,2024-01-01\n", CareCSV},
		// A bulk export's side files, as bulk-data clients and servers write them.
		{"bulk export log", "log.ndjson", `{"exportId": "export-1", "timestamp": "2024-08-06T14:11:57-04:00", "eventId": "kickoff", "eventDetail": {}}` + "\n", BulkSide},
		{"bulk export manifest", "manifest.json", `{"transactionTime":"2024-08-06T18:12:57Z","request":"https://x/fhir/$export","requiresAccessToken":true,"output":[{"type":"Patient","url":"https://x/Patient.ndjson"}],"error":[]}`, BulkSide},
		{"other", "notes.txt", "hello", Unknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Detect(write(tc.file, tc.body))
			if err != nil || got != tc.want {
				t.Errorf("Detect = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

// TestReadFolders reads the readers' testdata folders together: every
// format in one call, every item accounted for, unknown files flagged.
func TestReadFolders(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not data"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Read(context.Background(), []string{"../fhir/testdata", "../claimscsv/testdata/claims.csv", "../carecsv/testdata/care-events.csv", "../demo/sample.ndjson", dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sourcetest.Balanced(t, res.Summary)
	s := res.Summary
	// 13 + 4 + 9 + 5 bundle entries, 23 bulk lines, 11 claims CSV rows, 5 care-event CSV rows, and the native sample's records.
	native, err := os.ReadFile("../demo/sample.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if want := 13 + 4 + 9 + 5 + 23 + 11 + 5 + bytes.Count(bytes.TrimSpace(native), []byte("\n")) + 1; s.Read != want {
		t.Errorf("read %d items, want %d", s.Read, want)
	}
	if want := 4 + 12 + 1 + 1 + 1; s.Files != want {
		t.Errorf("read %d files, want %d", s.Files, want)
	}
	found := false
	for _, p := range res.Problems {
		found = found || (p.Rule == "file.unknown_format" && filepath.Base(p.File) == "README.txt")
	}
	if !found {
		t.Error("a file of unknown format in a folder was not reported")
	}
	// Care events come after every other format's records: their patients come from those.
	if last := res.Records[len(res.Records)-1]; last.GetCareEvent().GetSourceId() != "mon-1" || s.Records["careEvent"] != 5 {
		t.Errorf("last record %v, care events %d", last, s.Records["careEvent"])
	}
	if len(res.Records) != len(res.Origins) || len(res.Records) != sumCounts(s.Records) {
		t.Errorf("%d records, %d origins, summary counts %d", len(res.Records), len(res.Origins), sumCounts(s.Records))
	}
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Gzipped inputs (bulk-data servers gzip their NDJSON) read exactly as the
// plain files do, by the extension under .gz.
func TestReadsGzippedFiles(t *testing.T) {
	plain := []string{"../fhir/testdata/bulk", "../claimscsv/testdata/doc-example.csv", "../demo/sample.ndjson"}
	dir := t.TempDir()
	var zipped []string
	for _, p := range plain {
		files, _, err := Files([]string{p})
		if err != nil {
			t.Fatal(err)
		}
		sub := filepath.Join(dir, filepath.Base(p)+".d")
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, list := range files {
			for _, f := range list {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				z := gzip.NewWriter(&b)
				z.Write(data) //nolint:errcheck
				z.Close()
				if err := os.WriteFile(filepath.Join(sub, filepath.Base(f)+".gz"), b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		zipped = append(zipped, sub)
	}
	want, err := Read(context.Background(), plain, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Read(context.Background(), zipped, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Summary.Read != want.Summary.Read || got.Summary.Files != want.Summary.Files || len(got.Records) != len(want.Records) || len(got.Records) == 0 {
		t.Errorf("gzipped: %d files, %d items, %d records; plain: %d, %d, %d", got.Summary.Files, got.Summary.Read, len(got.Records),
			want.Summary.Files, want.Summary.Read, len(want.Records))
	}
	// A .gz that is not gzip data is a clear error naming the file.
	bad := filepath.Join(dir, "broken.ndjson.gz")
	os.WriteFile(bad, []byte(`{"patient":{}}`), 0o644) //nolint:errcheck
	if _, err := Read(context.Background(), []string{bad}, Options{}); err == nil || !strings.Contains(err.Error(), "broken.ndjson.gz: not gzip data") {
		t.Errorf("broken gzip: %v", err)
	}
}

// TestUnknownMedicationsAreCounted: a pharmacy feed's drugs that no measure
// knows, by code or by name, are counted by drug in the summary (imported,
// never dropped silently); drugs a measure knows by code, by name, or as a
// deliberate exclusion are not listed.
func TestUnknownMedicationsAreCounted(t *testing.T) {
	dir := t.TempDir()
	var lines []string
	add := func(id, system, code, display string) {
		lines = append(lines, `{"resourceType":"MedicationDispense","id":"`+id+`","status":"completed","subject":{"reference":"Patient/p1"},`+
			`"whenHandedOver":"2024-03-01","medicationCodeableConcept":{"coding":[{"system":"`+system+`","code":"`+code+`","display":"`+display+`"}]}}`)
	}
	lines = append(lines, `{"resourceType":"Patient","id":"p1","gender":"female","birthDate":"1950-01-01"}`)
	add("d1", "http://hl7.org/fhir/sid/ndc", "99999-0001-01", "Lisinopril 10 MG Oral Tablet")
	add("d2", "http://hl7.org/fhir/sid/ndc", "99999-0001-01", "Lisinopril 10 MG Oral Tablet")
	add("d3", "http://hl7.org/fhir/sid/ndc", "99999-0002-01", "Alendronate Sodium 70 MG Oral Tablet") // by name
	add("d4", "http://www.nlm.nih.gov/research/umls/rxnorm", "904419", "Alendronic acid 10 MG Oral Tablet")
	add("d5", "http://hl7.org/fhir/sid/ndc", "55513-0730-01", "XGEVA") // an excluded product: known
	add("d6", "http://hl7.org/fhir/sid/ndc", "bad", "not an NDC")      // rejected by ingest with its own rule
	if err := os.WriteFile(filepath.Join(dir, "MedicationDispense.ndjson"), []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Read(context.Background(), []string{dir}, Options{DefaultTIN: "123456789"})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Summary.UnknownDrugs
	if len(got) != 1 || got[0].System != "NDC" || got[0].Code != "99999000101" || got[0].Display != "Lisinopril 10 MG Oral Tablet" || got[0].Count != 2 {
		t.Errorf("unknown drugs = %+v, want lisinopril twice", got)
	}
}

// Issue 15, item 5: `liaison import` read whole files and decompressed
// without bound (a 4.5 MB .json.gz of blanks took 3.8 GB, a .csv.gz 6.4 GB).
// Now a .gz that expands past source.MaxRatio, a line past
// source.MaxLineBytes, a FHIR document read whole past
// fhir.MaxDocumentBytes and an element of a streamed Bundle past
// fhir.MaxEntryBytes stop the read with an error naming the file.
func TestInputsThatWouldExhaustMemory(t *testing.T) {
	dir := t.TempDir()
	gz := func(name string, size int, b byte) string {
		p := filepath.Join(dir, name)
		var buf bytes.Buffer
		z, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		chunk := bytes.Repeat([]byte{b}, 1<<20)
		for range size >> 20 {
			z.Write(chunk)
		}
		z.Close()
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := filepath.Join(dir, "oneline.csv")
	body := append([]byte("patient_id,claim_id,line_number,date_of_service\n"), bytes.Repeat([]byte("x"), 65<<20)...)
	if err := os.WriteFile(plain, body, 0o644); err != nil {
		t.Fatal(err)
	}
	blanks := func(name, head string, size int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, append([]byte(head), bytes.Repeat([]byte(" "), size)...), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct{ path, want string }{
		{blanks("huge.json", `{"resourceType":"Patient","id":"1",`, 257<<20), "a FHIR document over 256 MiB"},
		{blanks("huge-bundle.json", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"`, 65<<20), "huge-bundle.json:1: a Bundle entry (or other element) over 64 MiB"},
		{gz("blanks.json.gz", 300<<20, ' '), "expands more than 200 times"},
		{gz("blanks.csv.gz", 300<<20, ' '), "expands more than 200 times"},
		{plain, "oneline.csv:2: a line longer than 64 MiB"},
	} {
		_, err := Read(context.Background(), []string{tc.path}, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Base(tc.path)) {
			t.Errorf("%s: %v, want an error naming the file and %q", filepath.Base(tc.path), err, tc.want)
		}
	}
}
