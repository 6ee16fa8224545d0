package measure

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
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
		return nil, fmt.Errorf("measure %s: no such version (known: %s)", key, strings.Join(r.Keys(), ", "))
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
