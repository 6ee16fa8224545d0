package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/liaison-registry/liaison/internal/apptest"
	"github.com/liaison-registry/liaison/internal/importer"
	"github.com/liaison-registry/liaison/internal/input"
	"github.com/liaison-registry/liaison/internal/pgtest"
	"github.com/liaison-registry/liaison/internal/source"
	"github.com/liaison-registry/liaison/internal/store"
	"github.com/liaison-registry/liaison/internal/synth"
	pb "github.com/liaison-registry/liaison/proto/liaison/v1"
)

func TestMain(m *testing.M) {
	pgtest.SetTemplate(store.Migrate)
	os.Exit(pgtest.Main(m))
}

// server is a real liaisond over a fresh database.
type server struct {
	t      *testing.T
	db     *apptest.Server
	client pb.IngestServiceClient
}

func newServer(t *testing.T) *server {
	t.Helper()
	db := apptest.Start(t)
	return &server{t: t, db: db, client: pb.NewIngestServiceClient(db.Conn)}
}

func (s *server) query(sql string, args ...any) int {
	s.t.Helper()
	var n int
	apptest.Query(s.t, s.db.DatabaseURL, &n, sql, args...)
	return n
}

var tables = map[string]string{"practice": "practices", "clinician": "clinicians", "patient": "patients", "encounter": "encounters",
	"procedure": "procedures", "condition": "conditions", "medication": "medications", "qualityCode": "quality_codes",
	"coverage": "coverages", "institutionalFlag": "institutional_flags"}

// fixtures are real-shaped exports: a transaction Bundle, a searchset of
// claims, bulk NDJSON with cross-file references, and a CSV claims extract.
var fixtures = []string{"../fhir/testdata", "../claimscsv/testdata/claims.csv"}

func run(t *testing.T, s *server, mode pb.IngestMode, batch int) *importer.Report {
	t.Helper()
	var progress bytes.Buffer
	rep, err := importer.Run(context.Background(), s.client, fixtures, importer.Options{Mode: mode, Batch: batch,
		Input: input.Options{TimeZone: "America/New_York"}, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestImportEndToEndAndReimportChangesNothing(t *testing.T) {
	s := newServer(t)
	rep := run(t, s, pb.IngestMode_INGEST_MODE_UNSPECIFIED, 7) // small messages: references must resolve across them
	res := rep.Result
	if !res.Committed {
		t.Fatalf("not committed: %+v", res)
	}
	if int(res.Received) != rep.Sent {
		t.Errorf("server received %d records, importer sent %d", res.Received, rep.Sent)
	}
	// The database holds one row per distinct key among the records the
	// server did not reject (an export may repeat a key: the last one wins).
	keys := expectedKeys(t, rep)
	for typ, table := range tables {
		if got := s.query("SELECT count(*) FROM " + table); got != keys[typ] {
			t.Errorf("%s: database holds %d rows, want %d", table, got, keys[typ])
		}
	}
	// The server's rejections point back at the file and line they came from.
	var got []string
	for _, r := range rep.Rejections {
		got = append(got, fmt.Sprintf("%s:%d %s %s", filepath.Base(r.Origin.File), r.Origin.Line, r.Field, r.Rule))
	}
	sort.Strings(got)
	want := []string{"transaction-bundle.json:111 condition.code.system code.system"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("server rejections:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, c := range []struct {
		what string
		sql  string
		want int
	}{
		{"EOB quality-data code with its 8P modifier", `SELECT count(*) FROM quality_codes WHERE source_id = 'ExplanationOfBenefit/carrier-1001/2' AND code = '3095F' AND modifiers = '{8P}' AND encounter_id = 'ExplanationOfBenefit/carrier-1001'`, 1},
		{"CSV G-code line as a quality code", `SELECT count(*) FROM quality_codes WHERE tin = '123456789' AND source_id = 'Claim/CLM-1/3' AND code = 'G8633'`, 1},
		{"CSV line modifiers", `SELECT count(*) FROM encounters WHERE source_id = 'Claim/CLM,3' AND 'RT,59' = ANY(line_modifiers)`, 1},
		{"bundle encounter: POS from Location, diagnoses from Encounter.diagnosis and referencing Conditions", `SELECT count(*) FROM encounters WHERE pos = '23' AND class <> '' AND cardinality(dx_codes) = 2 AND rendering_npi = '1234567893'`, 1},
		{"patient seen at two practices", `SELECT count(*) FROM patients WHERE source_id = 'B-2'`, 2},
		{"procedure documented as not done", `SELECT count(*) FROM procedures WHERE not_done`, 1},
		{"practice from the Organization with its time zone", `SELECT count(*) FROM practices WHERE tin = '123456789' AND time_zone = 'America/New_York' AND name = 'Riverside Orthopedics'`, 1},
	} {
		if n := s.query(c.sql); n != c.want {
			t.Errorf("%s: %d rows, want %d", c.what, n, c.want)
		}
	}
	first := s.query("SELECT max(id)::int FROM ingest_batches")

	// Re-importing the same export stores the same records and changes no row.
	again := run(t, s, pb.IngestMode_INGEST_MODE_PARTIAL, 5000)
	if !again.Result.Committed || again.Result.Stored != res.Stored || again.Result.Rejected != res.Rejected {
		t.Errorf("re-import: %+v, first import: %+v", again.Result, res)
	}
	for typ, table := range tables {
		if got := s.query("SELECT count(*) FROM " + table); got != keys[typ] {
			t.Errorf("%s after re-import: %d rows, want %d", table, got, keys[typ])
		}
		if changed := s.query("SELECT count(*) FROM "+table+" WHERE batch_id > $1", first); changed != 0 {
			t.Errorf("%s: re-import changed %d rows", table, changed)
		}
	}
}

// expectedKeys reads the fixtures again and counts distinct record keys per
// type, leaving out the records the server rejected.
func expectedKeys(t *testing.T, rep *importer.Report) map[string]int {
	t.Helper()
	res, err := input.Read(context.Background(), fixtures, input.Options{TimeZone: "America/New_York"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != rep.Sent {
		t.Fatalf("read %d records, the import sent %d", len(res.Records), rep.Sent)
	}
	rejected := map[int64]bool{}
	for _, r := range rep.Rejections {
		rejected[r.Index] = true
	}
	seen := map[string]bool{}
	out := map[string]int{}
	for i, rec := range res.Records {
		if rejected[int64(i)] {
			continue
		}
		typ := source.RecordType(rec)
		var key string
		switch {
		case rec.GetPractice() != nil:
			key = rec.GetPractice().GetTin()
		case rec.GetClinician() != nil:
			key = rec.GetClinician().GetNpi()
		default:
			m := rec.ProtoReflect()
			kind := m.Get(m.WhichOneof(m.Descriptor().Oneofs().ByName("kind"))).Message()
			key = kind.Get(kind.Descriptor().Fields().ByName("tin")).String() + "|" + kind.Get(kind.Descriptor().Fields().ByName("source_id")).String()
		}
		if !seen[typ+"|"+key] {
			seen[typ+"|"+key] = true
			out[typ]++
		}
	}
	return out
}

func TestImportAllOrNothingStoresNothing(t *testing.T) {
	s := newServer(t)
	rep := run(t, s, pb.IngestMode_INGEST_MODE_ALL_OR_NOTHING, 5000)
	if rep.Result.Committed || rep.Result.Rejected == 0 {
		t.Fatalf("want an uncommitted request with rejections, got %+v", rep.Result)
	}
	for _, table := range tables {
		if n := s.query("SELECT count(*) FROM " + table); n != 0 {
			t.Errorf("%s holds %d rows after a rejected all-or-nothing import", table, n)
		}
	}
	var out bytes.Buffer
	rep.Write(&out)
	if !strings.Contains(out.String(), "NOT committed") || !strings.Contains(out.String(), "transaction-bundle.json:111") {
		t.Errorf("summary does not say nothing was stored or does not name the rejected resource:\n%s", out.String())
	}
}

// TestImportSynthFHIRRejectsNothing imports the synthetic population as
// FHIR bulk NDJSON in small messages, so every reference crosses messages
// (and files: Claim.ndjson sorts before the Encounter.ndjson its quality
// codes point into): with no invalid records generated, nothing may be
// rejected, by the reader or the server.
func TestImportSynthFHIRRejectsNothing(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := synth.New(synth.Defaults(3, 2024)).WriteFHIR(dir, 300, nil); err != nil {
		t.Fatal(err)
	}
	s := newServer(t)
	rep, err := importer.Run(context.Background(), s.client, []string{dir}, importer.Options{Batch: 50})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Summary.Rejected != 0 || rep.Result.Rejected != 0 || !rep.Result.Committed {
		var out bytes.Buffer
		rep.Write(&out)
		t.Fatalf("rejections importing synthetic FHIR:\n%.3000s", out.String())
	}
	// Care events written as FHIR (every kind synth draws) are read back as care events.
	if rep.Result.StoredByType["qualityCode"] == 0 || rep.Result.StoredByType["encounter"] == 0 || rep.Result.StoredByType["careEvent"] == 0 {
		t.Errorf("stored %v", rep.Result.StoredByType)
	}
}
