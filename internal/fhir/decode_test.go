package fhir

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// testResources returns every resource in testdata, as the reader sees them.
func testResources(t testing.TB) [][]byte {
	var out [][]byte
	files, _ := filepath.Glob("testdata/*.json")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		entries, err := bundleEntries(b)
		if err != nil {
			t.Fatal(f, err)
		}
		for _, e := range entries {
			out = append(out, e.Resource)
		}
	}
	files, _ = filepath.Glob("testdata/bulk/*.ndjson")
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			out = append(out, append([]byte(nil), sc.Bytes()...))
		}
		fh.Close()
	}
	return out
}

// decodesLikeEncodingJSON checks decodeResource against encoding/json on
// the canonical form of data (exact keys, no duplicates): both must read
// the same resource.
func decodesLikeEncodingJSON(t *testing.T, data []byte) {
	var first resource
	if json.Unmarshal(data, &first) != nil {
		return
	}
	canonical, err := json.Marshal(first)
	if err != nil {
		t.Fatal(err)
	}
	var want, got resource
	if err := json.Unmarshal(canonical, &want); err != nil {
		t.Fatal(err)
	}
	if err := decodeResource(canonical, &got); err != nil {
		t.Fatalf("decodeResource(%s): %v", canonical, err)
	}
	nilEmpty(reflect.ValueOf(&got))
	nilEmpty(reflect.ValueOf(&want))
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		t.Fatalf("decodeResource differs from encoding/json\n got %s\nwant %s", g, canonical)
	}
}

func TestDecodeMatchesEncodingJSON(t *testing.T) {
	for _, r := range testResources(t) {
		decodesLikeEncodingJSON(t, r)
	}
}

func FuzzDecode(f *testing.F) {
	for _, r := range testResources(f) {
		f.Add(r)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		decodesLikeEncodingJSON(t, data)
		var r resource
		_ = decodeResource(data, &r) // must not panic on anything
	})
}

// nilEmpty sets empty slices to nil throughout v: the reader treats them
// alike, and encoding/json makes [] an empty slice where decodeResource
// leaves nil.
func nilEmpty(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			nilEmpty(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			nilEmpty(v.Field(i))
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return // raw JSON
		}
		if v.Len() == 0 {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		for i := 0; i < v.Len(); i++ {
			nilEmpty(v.Index(i))
		}
	}
}
