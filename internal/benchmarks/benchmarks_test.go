package benchmarks

import "testing"

func TestDecileEdges(t *testing.T) {
	// MIPS #418, 2024, registry: percentiles 10..90 of benchmark year 2022.
	b, ok := Lookup("418", 2024, Registry)
	if !ok {
		t.Fatal("no 2024 registry benchmark for 418")
	}
	if b.BenchmarkYear != 2022 || b.Cut != [9]float64{5.45, 9.09, 12.03, 14.95, 16, 18.18, 22.64, 32.14, 58.33} {
		t.Fatalf("418/2024 = %+v", b)
	}
	for _, tc := range []struct {
		name string
		rate float64
		want int
	}{
		{"zero", 0, 1},
		{"just below the first cut", 0.0544, 1},
		{"on the first cut", 0.0545, 2},
		{"on an integer cut", 0.16, 6},
		{"just below an integer cut", 0.159999, 5},
		{"a fraction that is not exact in binary", 0.2264, 8},
		{"on the last cut", 0.5833, 10},
		{"perfect", 1, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := b.Decile(tc.rate); got != tc.want {
				t.Errorf("Decile(%v) = %d, want %d", tc.rate, got, tc.want)
			}
		})
	}
}

func TestEqualCutsLeaveLowerDecilesEmpty(t *testing.T) {
	// #024 registry 2024: percentiles 70, 80 and 90 are all 100, so a rate
	// of 100% is in decile 10 and deciles 8 and 9 are empty.
	b, _ := Lookup("024", 2024, Registry)
	if got := b.Decile(1); got != 10 {
		t.Errorf("100%% in decile %d, want 10", got)
	}
	if got := b.Decile(0.9999); got != 7 {
		t.Errorf("99.99%% in decile %d, want 7", got)
	}
	// A first cut of 0 (older files) puts a rate of 0 in decile 2, never 1.
	old, _ := Lookup("024", 2018, Registry)
	if old.Cut[0] != 0 || old.Decile(0) != 2 {
		t.Errorf("2018: cut %v, decile of 0 = %d", old.Cut[0], old.Decile(0))
	}
}

func TestOldDecilesAndNewPercentilesAgree(t *testing.T) {
	// CMS reused benchmark year 2021 for 418: the 2021 file's "deciles" and
	// the 2023 file's percentiles 10..90 must read the same.
	a, okA := Lookup("418", 2021, Registry)
	b, okB := Lookup("418", 2023, Registry)
	if !okA || !okB || a.BenchmarkYear != 2021 || b.BenchmarkYear != 2021 {
		t.Fatalf("2021 %v %+v, 2023 %v %+v", okA, a, okB, b)
	}
	for k := range a.Cut {
		// The newer file carries one more decimal (29.755 for 29.76).
		if d := a.Cut[k] - b.Cut[k]; d > 0.0051 || d < -0.0051 {
			t.Errorf("cut %d: 2021 decile %v, 2023 percentile %v", k, a.Cut[k], b.Cut[k])
		}
	}
	if b.Average == nil || *b.Average != 39.36 || a.Average != nil {
		t.Errorf("averages: 2021 %v, 2023 %v", a.Average, b.Average)
	}
}

func TestLookupMisses(t *testing.T) {
	for _, tc := range []struct {
		id     string
		year   int
		method string
	}{
		{"418", 2016, Registry}, // before MIPS
		{"418", 2024, Claims},   // CMS published no claims benchmark for 418 in 2024
		{"472", 2024, "electronicHealthRecord"},
		{"040", 2017, Registry}, // not a measure Liaison benchmarks
	} {
		if b, ok := Lookup(tc.id, tc.year, tc.method); ok {
			t.Errorf("Lookup(%s, %d, %s) = %+v, want none", tc.id, tc.year, tc.method, b)
		}
	}
}
