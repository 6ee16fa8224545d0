package measure

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
)

// SpecHash is the SHA-256 of a version's spec files and the shared value
// sets, so a run can say exactly which specification produced it.
func SpecHash(fsys fs.FS, key string) (string, error) {
	id, version, err := ParseKey(key)
	if err != nil {
		return "", err
	}
	files, err := fs.Glob(fsys, path.Join(id, version, "*"))
	if err != nil {
		return "", err
	}
	// Shared lists may sit in sub-folders (valuesets/frailty/<expansion>/).
	err = fs.WalkDir(fsys, "valuesets", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	slices.Sort(files)
	h := sha256.New()
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return "", err
		}
		// Each file enters as its name and the hash of its content, so
		// renaming a file or moving bytes between files changes the result.
		sum := sha256.Sum256(b)
		h.Write([]byte(f))
		h.Write([]byte{0})
		h.Write(sum[:])
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Basis says what the measure counts: "episode" or "patient".
func (m *Measure) Basis() string {
	if m.unit == UnitPatient {
		return "patient"
	}
	return "episode"
}

// ParsePopulation maps a population's API name to it.
func ParsePopulation(name string) (Population, bool) {
	for p, n := range populationNames {
		if n == name {
			return Population(p), true
		}
	}
	return 0, false
}

// UnmarshalJSON reads a population by its API name, the inverse of MarshalJSON.
func (p *Population) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	v, ok := ParsePopulation(name)
	if !ok {
		return fmt.Errorf("unknown population %q", name)
	}
	*p = v
	return nil
}
