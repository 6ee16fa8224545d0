package measure

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// Registry compiles measure versions from a spec tree on first use and
// keeps them: each version is compiled once per process.
type Registry struct {
	fsys fs.FS
	mu   sync.Mutex
	done map[string]*entry
}

type entry struct {
	once sync.Once
	m    *Measure
	err  error
}

// NewRegistry serves the specs under fsys (measures.FS() in production).
func NewRegistry(fsys fs.FS) *Registry { return &Registry{fsys: fsys, done: map[string]*entry{}} }

// ParseKey splits "mips-418@2024" into measure and version.
func ParseKey(key string) (id, version string, err error) {
	id, version, ok := strings.Cut(key, "@")
	if !ok || id == "" || version == "" || strings.ContainsAny(key, "/\\") {
		return "", "", fmt.Errorf("measure %q: want ID@VERSION, e.g. mips-418@2024", key)
	}
	return id, version, nil
}

// Get returns the compiled measure for "ID@VERSION".
func (r *Registry) Get(key string) (*Measure, error) {
	id, version, err := ParseKey(key)
	if err != nil {
		return nil, err
	}
	dir := path.Join(id, version)
	if _, err := fs.Stat(r.fsys, path.Join(dir, "spec.yaml")); err != nil {
		return nil, r.unknown(key, id, version)
	}
	r.mu.Lock()
	e, ok := r.done[key]
	if !ok {
		e = &entry{}
		r.done[key] = e
	}
	r.mu.Unlock()
	e.once.Do(func() { e.m, e.err = Load(r.fsys, dir) })
	return e.m, e.err
}

// Keys lists every "ID@VERSION" in the tree, sorted.
func (r *Registry) Keys() []string {
	specs, _ := fs.Glob(r.fsys, "*/*/spec.yaml")
	keys := make([]string, 0, len(specs))
	for _, s := range specs {
		dir := path.Dir(s)
		keys = append(keys, path.Dir(dir)+"@"+path.Base(dir))
	}
	slices.Sort(keys)
	return keys
}

// unknown explains a key with no spec: which versions the measure has (and
// which are provisional), or which measures exist, and whether the year asked
// for is one CMS has not published yet.
func (r *Registry) unknown(key, id, version string) error {
	byID := map[string][]string{}
	var ids []string
	for _, k := range r.Keys() {
		i, v, _ := ParseKey(k)
		if byID[i] == nil {
			ids = append(ids, i)
		}
		byID[i] = append(byID[i], v)
	}
	versions, ok := byID[id]
	if !ok {
		known := make([]string, len(ids))
		for n, i := range ids {
			known[n] = i + " (" + span(byID[i]) + ")"
		}
		return fmt.Errorf("measure %s: no such measure; known: %s", key, strings.Join(known, ", "))
	}
	msg := fmt.Sprintf("measure %s: no such version; %s has %s", key, id, span(versions))
	var provisional []string
	for _, v := range versions {
		if m, err := r.Get(id + "@" + v); err == nil && len(m.Provisional) > 0 {
			provisional = append(provisional, v)
		}
	}
	if len(provisional) > 0 {
		msg += " (" + span(provisional) + " provisional)"
	}
	// A year past the newest of every measure is one nobody has published;
	// a retired measure's later years are simply not there.
	newest := 0
	for _, k := range r.Keys() {
		_, v, _ := ParseKey(k)
		if y, err := strconv.Atoi(v); err == nil {
			newest = max(newest, y)
		}
	}
	if y, err := strconv.Atoi(version); err == nil && y > newest {
		msg += fmt.Sprintf("; %d is not yet published: a version is added when CMS publishes that year's measure data", y)
	}
	return errors.New(msg)
}

// span writes sorted versions compactly: consecutive years as a range
// ("2017-2027"), anything else listed.
func span(versions []string) string {
	var out []string
	for i := 0; i < len(versions); {
		j := i
		for j+1 < len(versions) && consecutive(versions[j], versions[j+1]) {
			j++
		}
		if j > i {
			out = append(out, versions[i]+"-"+versions[j])
		} else {
			out = append(out, versions[i])
		}
		i = j + 1
	}
	return strings.Join(out, ", ")
}

func consecutive(a, b string) bool {
	x, err1 := strconv.Atoi(a)
	y, err2 := strconv.Atoi(b)
	return err1 == nil && err2 == nil && y == x+1
}

// ForYear picks among a measure's versions the one of year, else the newest
// before it, else its first; with no year, its newest. It is how the
// registry's own measures (one version a year, no CMS year to follow) are
// matched to the year a report or a run is about. Versions are years,
// compared as the four-digit strings they are.
func ForYear(versions []string, year string) string {
	v := slices.Clone(versions)
	slices.Sort(v)
	if len(v) == 0 {
		return ""
	}
	if year == "" {
		return v[len(v)-1]
	}
	pick := v[0]
	for _, x := range v {
		if x <= year {
			pick = x
		}
	}
	return pick
}
