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

// SpecHash is the SHA-256 of the files this version was compiled from:
// every file of its own folder and every file its spec borrowed from
// elsewhere (shared value sets, a sites file, another measure's code list),
// so that a run can say exactly which specification produced it, and a
// change to a list it borrows changes it while a change to a list it does
// not read leaves it alone.
func (m *Measure) SpecHash() (string, error) {
	files, err := fs.Glob(m.src, path.Join(m.dir, "*"))
	if err != nil {
		return "", err
	}
	files = append(files, m.borrowed...)
	slices.Sort(files)
	files = slices.Compact(files)
	h := sha256.New()
	for _, f := range files {
		b, err := fs.ReadFile(m.src, f)
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
