package report

import (
	"cmp"
	"math"
	"slices"

	"github.com/liaison-registry/liaison/internal/measure"
)

// Small-cell rule for any figure that leaves the practice (CMS cell-size
// suppression policy, ResDAC, version of 2024-01-26; reference/fls.md §7):
// no count from 1 to 10 may be shown, nor be derivable from other shown
// cells, percentages or totals. Zero may be shown.
const (
	SuppressMin = 1
	SuppressMax = 10
)

// Sensitive reports whether a count may not be shown.
func Sensitive(n int) bool { return n >= SuppressMin && n <= SuppressMax }

// Sum ties a table's cells: Values[Total] = Σ Values[Parts].
type Sum struct {
	Total int
	Parts []int
}

// Table is a set of counts tied by sums, as a reader sees them: rows and a
// total row, a denominator split into outcomes.
type Table struct {
	Values []int
	// Implied cells are never shown but follow from shown ones (e.g. the
	// initial population minus the denominator): they must be protected too.
	Implied []bool
	// Margins are totals; complementary suppression takes them last, as a
	// hidden total hides more than a hidden part.
	Margins []bool
	Sums    []Sum
}

// Suppress returns the cells to withhold: every sensitive cell (primary
// suppression), and enough others (complementary suppression) that no
// sensitive cell, shown or implied, can be worked out exactly from the
// shown cells through the table's sums, however they are combined.
//
// A hidden cell is exactly recoverable when its unit vector lies in the row
// space of the sums restricted to the hidden cells; it is checked by
// Gaussian elimination. While one is, a shown cell taking part in the
// combination that recovers it is hidden too, choosing parts before
// margins, then non-zero cells (a hidden zero in a sum whose total is zero
// protects nothing), then the smallest.
func Suppress(t Table) []bool {
	n := len(t.Values)
	hidden := make([]bool, n)
	out := make([]bool, n)
	for i, v := range t.Values {
		implied := t.Implied != nil && t.Implied[i]
		hidden[i] = implied || Sensitive(v)
		out[i] = !implied && Sensitive(v)
	}
	for {
		cell, weight := disclosed(t, hidden)
		if cell < 0 {
			return out
		}
		c := complement(t, hidden, weight)
		if c < 0 {
			// Cannot happen: a recovered cell's combination involves at
			// least one shown cell. Hide everything rather than leak.
			for i := range out {
				out[i] = t.Implied == nil || !t.Implied[i]
			}
			return out
		}
		hidden[c], out[c] = true, true
	}
}

// disclosed finds a sensitive hidden cell the shown cells determine, and
// the weight each cell has in the combination of sums that recovers it;
// -1 when there is none.
func disclosed(t Table, hidden []bool) (int, []float64) {
	var cols []int // hidden cells, the unknowns
	colOf := map[int]int{}
	for i, h := range hidden {
		if h {
			colOf[i] = len(cols)
			cols = append(cols, i)
		}
	}
	var sums []Sum
	for _, s := range t.Sums {
		if hidden[s.Total] || slices.ContainsFunc(s.Parts, func(p int) bool { return hidden[p] }) {
			sums = append(sums, s)
		}
	}
	u, r := len(cols), len(sums)
	// Each row: the sum's coefficients on the unknowns, then an identity
	// block recording which sums were combined into it.
	m := make([][]float64, r)
	for i, s := range sums {
		m[i] = make([]float64, u+r)
		for c, k := range coefficients(s) {
			if hidden[c] {
				m[i][colOf[c]] += k
			}
		}
		m[i][u+i] = 1
	}
	const eps = 1e-9
	pivotRow := make([]int, u)
	for i := range pivotRow {
		pivotRow[i] = -1
	}
	row := 0
	for col := 0; col < u && row < r; col++ {
		best := row
		for i := row + 1; i < r; i++ {
			if math.Abs(m[i][col]) > math.Abs(m[best][col]) {
				best = i
			}
		}
		if math.Abs(m[best][col]) < eps {
			continue
		}
		m[row], m[best] = m[best], m[row]
		p := m[row][col]
		for j := range m[row] {
			m[row][j] /= p
		}
		for i := range r {
			if i != row && math.Abs(m[i][col]) >= eps {
				f := m[i][col]
				for j := range m[i] {
					m[i][j] -= f * m[row][j]
				}
			}
		}
		pivotRow[col] = row
		row++
	}
	for col, pr := range pivotRow {
		if pr < 0 || !Sensitive(t.Values[cols[col]]) {
			continue
		}
		alone := true
		for j := range u {
			if j != col && math.Abs(m[pr][j]) >= eps {
				alone = false
				break
			}
		}
		if !alone {
			continue
		}
		weight := make([]float64, len(t.Values))
		for i, s := range sums {
			y := m[pr][u+i]
			for c, k := range coefficients(s) {
				weight[c] += y * k
			}
		}
		return cols[col], weight
	}
	return -1, nil
}

// coefficients writes a sum as Total − ΣParts = 0.
func coefficients(s Sum) map[int]float64 {
	k := map[int]float64{s.Total: 1}
	for _, p := range s.Parts {
		k[p]--
	}
	return k
}

// complement picks the shown cell to hide among those the recovery uses.
func complement(t Table, hidden []bool, weight []float64) int {
	var cands []int
	for c, w := range weight {
		if !hidden[c] && math.Abs(w) >= 1e-9 {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return -1
	}
	margin := func(c int) bool { return t.Margins != nil && t.Margins[c] }
	return slices.MinFunc(cands, func(a, b int) int {
		if ma, mb := margin(a), margin(b); ma != mb {
			if ma {
				return 1
			}
			return -1
		}
		if za, zb := t.Values[a] == 0, t.Values[b] == 0; za != zb {
			if za {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(t.Values[a], t.Values[b]), cmp.Compare(a, b))
	})
}

// Mask says which figures of a row of counts to withhold.
type Mask struct {
	// In measure order: initial population, denominator, exclusions,
	// exceptions, numerator, not met.
	Counts [6]bool
	// Rate covers the rate and everything derived from it (interval,
	// decile): it is shown only when numerator and not met both are, so it
	// reveals nothing the shown counts do not.
	Rate bool
}

// Any reports whether anything in the row is withheld.
func (m Mask) Any() bool { return m.Rate || slices.Contains(m.Counts[:], true) }

// CountsOf lists counts in Mask order.
func CountsOf(c measure.Counts) [6]int {
	return [6]int{c[measure.InitialPopulation], c[measure.Denominator], c[measure.DenominatorExclusion], c[measure.DenominatorException], c[measure.Numerator], c[measure.PerformanceNotMet]}
}

// SuppressRows protects rows of counts (one per practice, say) published
// with their total row; the result has one mask per row and the total's last.
// Within a row the denominator is exclusions + exceptions + met + not met,
// and the initial population is the denominator plus those outside it (an
// implied cell); each column of the total row is the sum of the rows.
func SuppressRows(rows []measure.Counts) []Mask {
	const width = 7 // the six counts and the implied "outside the denominator"
	n := len(rows) + 1
	t := Table{Values: make([]int, n*width), Implied: make([]bool, n*width), Margins: make([]bool, n*width)}
	var total measure.Counts
	for _, r := range rows {
		total.Merge(r)
	}
	for i, c := range append(slices.Clone(rows), total) {
		b := i * width
		v := CountsOf(c)
		copy(t.Values[b:], v[:])
		t.Values[b+6] = c[measure.InitialPopulation] - c[measure.Denominator]
		t.Implied[b+6] = true
		t.Margins[b], t.Margins[b+1] = true, true
		t.Sums = append(t.Sums, Sum{b + 1, []int{b + 2, b + 3, b + 4, b + 5}}, Sum{b, []int{b + 1, b + 6}})
	}
	last := (n - 1) * width
	for k := range width {
		t.Margins[last+k] = true
		s := Sum{Total: last + k}
		for i := range rows {
			s.Parts = append(s.Parts, i*width+k)
		}
		t.Sums = append(t.Sums, s)
	}
	hide := Suppress(t)
	masks := make([]Mask, n)
	for i := range masks {
		copy(masks[i].Counts[:], hide[i*width:i*width+6])
		masks[i].Rate = masks[i].Counts[4] || masks[i].Counts[5]
	}
	return masks
}
