package deps

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

const mod = "github.com/liaison-registry/liaison/"

// rules say, per group of packages, which packages they must not reach
// (directly or through anything they import).
var rules = []struct {
	group    string
	packages []string
	never    []string
}{
	{"domain", []string{"internal/clinical", "internal/measure", "internal/access", "internal/evaluation", "internal/adherence", "internal/stats"},
		[]string{mod + "internal/store", "github.com/jackc/pgx/v5", "google.golang.org/grpc", "net/http"}},
	{"readers", []string{"internal/fhir", "internal/claimscsv", "internal/carecsv", "internal/source", "internal/input", "internal/ndjson", "internal/ingest"},
		[]string{mod + "internal/store", "github.com/jackc/pgx/v5"}},
	{"writers", []string{"internal/report/...", "internal/submission", "internal/validate/..."},
		[]string{mod + "internal/store", "github.com/jackc/pgx/v5"}},
	{"storage", []string{"internal/store"}, []string{mod + "internal/api"}},
}

func TestDependenciesPointInward(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	for _, r := range rules {
		for _, pkg := range r.packages {
			out, err := exec.Command(goBin, "list", "-deps", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, "../../"+pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list %s: %v\n%s", pkg, err, out)
			}
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				fields := strings.Fields(line)
				if len(fields) == 0 || !strings.HasPrefix(fields[0], mod+strings.TrimSuffix(pkg, "/...")) {
					continue // a dependency's own line
				}
				for _, dep := range fields[1:] {
					for _, bad := range r.never {
						if dep == bad || strings.HasPrefix(dep, bad+"/") {
							t.Errorf("%s package %s reaches %s", r.group, fields[0], dep)
						}
					}
				}
			}
		}
	}
}
