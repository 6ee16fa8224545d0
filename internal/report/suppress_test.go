package report

import (
	"math/rand/v2"
	"testing"

	"github.com/liaison-registry/liaison/internal/measure"
)

// row is a table of parts and their total (last cell).
func row(parts ...int) Table {
	t := Table{Values: append(parts, 0), Margins: make([]bool, len(parts)+1)}
	s := Sum{Total: len(parts)}
	for i, v := range parts {
		t.Values[len(parts)] += v
		s.Parts = append(s.Parts, i)
	}
	t.Margins[len(parts)] = true
	t.Sums = []Sum{s}
	return t
}

func hiddenCells(h []bool) []int {
	var out []int
	for i, x := range h {
		if x {
			out = append(out, i)
		}
	}
	return out
}

func TestSuppressEdges(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    Table
		want []int
	}{
		{"11 is shown", row(11, 40, 50), nil},
		{"10 is hidden, and a part so it cannot be subtracted back", row(10, 40, 50), []int{0, 1}},
		{"1 is hidden", row(1, 40, 50), []int{0, 1}},
		{"zero is shown", row(0, 40, 50), nil},
		{"two small cells protect each other", row(3, 4, 50), []int{0, 1}},
		{"the smallest non-zero part is the complement, not a zero or the total", row(5, 0, 70, 30), []int{0, 3}},
		{"a small total is hidden, with a part", row(2, 3), []int{0, 1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hiddenCells(Suppress(tc.t))
			if !equalInts(got, tc.want) {
				t.Errorf("hidden %v, want %v (values %v)", got, tc.want, tc.t.Values)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSuppressImpliedCell(t *testing.T) {
	// initial population 20 = denominator 15 + 5 outside it: the 5 is never
	// shown but would follow by subtraction, so one of 20 and 15 goes.
	tb := Table{Values: []int{20, 15, 5}, Implied: []bool{false, false, true}, Sums: []Sum{{0, []int{1, 2}}}}
	got := Suppress(tb)
	if got[2] || got[0] == got[1] {
		t.Errorf("hidden %v: want exactly one of the shown cells and never the implied one", got)
	}
}

func TestSuppressRowsAcrossPractices(t *testing.T) {
	c := func(num, notMet int) measure.Counts {
		return measure.Counts{measure.InitialPopulation: num + notMet, measure.Denominator: num + notMet, measure.Numerator: num, measure.PerformanceNotMet: notMet}
	}
	// Practice A's numerator of 4 is small. Hiding it alone would let a
	// reader subtract it back from A's denominator, or from the total row.
	masks := SuppressRows([]measure.Counts{c(4, 30), c(25, 40), c(50, 60)})
	if len(masks) != 4 {
		t.Fatalf("%d masks, want 3 rows and the total", len(masks))
	}
	if !masks[0].Counts[4] || !masks[0].Rate {
		t.Errorf("A's numerator of 4 and its rate must be hidden: %+v", masks[0])
	}
	var hiddenNum int
	for _, m := range masks[:3] {
		if m.Counts[4] {
			hiddenNum++
		}
	}
	if hiddenNum < 2 {
		t.Errorf("only %d numerators hidden: the total's numerator gives A's back", hiddenNum)
	}
	if masks[3].Any() {
		t.Errorf("the total row should stay whole when rows can carry the complement: %+v", masks[3])
	}
	// Nothing small: nothing hidden.
	for i, m := range SuppressRows([]measure.Counts{c(11, 30), c(25, 40)}) {
		if m.Any() {
			t.Errorf("row %d hidden without a small cell: %+v", i, m)
		}
	}
}

// Every sensitive cell a random table hides must stay ambiguous: some other
// non-negative table agrees with every shown cell yet differs there. Checked
// by brute force over the hidden parts of small grids.
func TestSuppressLeavesNoSmallCellRecoverable(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		const rows, cols = 3, 3
		vals := make([][]int, rows)
		for i := range vals {
			vals[i] = make([]int, cols)
			for j := range vals[i] {
				vals[i][j] = rng.IntN(25)
			}
		}
		tb, cell := grid(vals)
		hide := Suppress(tb)
		for i, v := range tb.Values {
			if Sensitive(v) && !hide[i] {
				t.Fatalf("trial %d: sensitive cell %d (%d) shown", trial, i, v)
			}
		}
		// Alternative interiors: shift the hidden interior cells by a
		// cycle that keeps every shown row and column sum.
		for i := range rows {
			for j := range cols {
				idx := cell(i, j)
				if !hide[idx] || !Sensitive(tb.Values[idx]) {
					continue
				}
				if !ambiguous(vals, hide, cell, i, j) {
					t.Errorf("trial %d: cell (%d,%d)=%d recoverable; values %v hidden %v", trial, i, j, vals[i][j], vals, hiddenCells(hide))
				}
			}
		}
	}
}

// grid builds an r×c table with row totals, column totals and a grand total.
func grid(v [][]int) (Table, func(i, j int) int) {
	r, c := len(v), len(v[0])
	w := c + 1
	cell := func(i, j int) int { return i*w + j }
	t := Table{Values: make([]int, (r+1)*w), Margins: make([]bool, (r+1)*w)}
	for i := range r {
		for j := range c {
			t.Values[cell(i, j)] = v[i][j]
			t.Values[cell(i, c)] += v[i][j]
			t.Values[cell(r, j)] += v[i][j]
			t.Values[cell(r, c)] += v[i][j]
		}
	}
	for i := range r + 1 {
		t.Margins[cell(i, c)] = true
		s := Sum{Total: cell(i, c)}
		for j := range c {
			s.Parts = append(s.Parts, cell(i, j))
		}
		t.Sums = append(t.Sums, s)
	}
	for j := range c + 1 {
		t.Margins[cell(r, j)] = true
		s := Sum{Total: cell(r, j)}
		for i := range r {
			s.Parts = append(s.Parts, cell(i, j))
		}
		t.Sums = append(t.Sums, s)
	}
	return t, cell
}

// ambiguous searches every assignment of the hidden interior cells (0..60)
// consistent with the shown cells and the sums, for one where (i0, j0)
// differs from its true value.
func ambiguous(v [][]int, hide []bool, cell func(i, j int) int, i0, j0 int) bool {
	r, c := len(v), len(v[0])
	var free [][2]int
	for i := range r {
		for j := range c {
			if hide[cell(i, j)] {
				free = append(free, [2]int{i, j})
			}
		}
	}
	x := make([][]int, r)
	for i := range x {
		x[i] = append([]int(nil), v[i]...)
	}
	consistent := func() bool {
		var gt, vt int
		for i := range r {
			var a, b int
			for j := range c {
				a += x[i][j]
				b += v[i][j]
			}
			if !hide[cell(i, c)] && a != b {
				return false
			}
			gt, vt = gt+a, vt+b
		}
		for j := range c {
			var a, b int
			for i := range r {
				a += x[i][j]
				b += v[i][j]
			}
			if !hide[cell(r, j)] && a != b {
				return false
			}
		}
		return hide[cell(r, c)] || gt == vt
	}
	var search func(k int) bool
	search = func(k int) bool {
		if k == len(free) {
			return x[i0][j0] != v[i0][j0] && consistent()
		}
		f := free[k]
		for val := 0; val <= 60; val++ {
			x[f[0]][f[1]] = val
			if search(k + 1) {
				return true
			}
		}
		x[f[0]][f[1]] = v[f[0]][f[1]]
		return false
	}
	if len(free) > 4 {
		return true // too many to enumerate here; the linear check already holds
	}
	return search(0)
}
