package measure

import "testing"

func TestForYear(t *testing.T) {
	vs := []string{"2026", "2025"}
	for year, want := range map[string]string{"2025": "2025", "2026": "2026", "2024": "2025", "2030": "2026", "": "2026"} {
		if got := ForYear(vs, year); got != want {
			t.Errorf("ForYear(%v, %q) = %q, want %q", vs, year, got, want)
		}
	}
	if got := ForYear(nil, "2025"); got != "" {
		t.Errorf("no versions: %q", got)
	}
}
