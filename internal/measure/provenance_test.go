package measure

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/liaison-registry/liaison/measures"
)

// A version's spec hash covers what it was compiled from: its own files
// and a list it borrows from another measure's folder; a shared list it
// does not read leaves the hash alone. (fls-assessment-90d@2025 reads its
// fracture codes from mips-418/2025/diagnoses.txt and no shared value set.)
func TestSpecHashCoversWhatTheVersionReads(t *testing.T) {
	tree := fstest.MapFS{}
	if err := fs.WalkDir(measures.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(measures.FS(), p)
		tree[p] = &fstest.MapFile{Data: b}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	const key = "fls-assessment-90d@2025"
	hash := func() string {
		t.Helper()
		m, err := Load(tree, "fls-assessment-90d/2025")
		if err != nil {
			t.Fatal(err)
		}
		h, err := m.SpecHash()
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	base := hash()
	if m, _ := NewRegistry(measures.FS()).Get(key); m != nil {
		if h, _ := m.SpecHash(); h != base {
			t.Fatalf("the same files hash differently: %s and %s", h, base)
		}
	}
	edit := func(file, text string) {
		old := tree[file].Data
		tree[file] = &fstest.MapFile{Data: append(append([]byte{}, old...), text...)}
		t.Cleanup(func() { tree[file] = &fstest.MapFile{Data: old} })
	}
	edit("valuesets/palliative.txt", "# a comment in a list fls-assessment-90d does not read\n")
	if got := hash(); got != base {
		t.Errorf("a list the version does not read changed its hash")
	}
	edit("mips-418/2025/diagnoses.txt", "# a comment in the list it borrows\n")
	borrowed := hash()
	if borrowed == base {
		t.Errorf("a change to the borrowed #418 list left the hash as it was")
	}
	edit("fls-assessment-90d/2025/spec.yaml", "# a comment in its own spec\n")
	if got := hash(); got == borrowed || got == base {
		t.Errorf("a change to its own spec left the hash as it was")
	}
}
