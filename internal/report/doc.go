// Package report holds the domain logic of performance reports, as pure
// functions of plain data (runs, cases, counts, benchmarks): Wilson
// intervals, decile positions, the case-minimum and data-completeness flags,
// the plain-language line, worklist order and "what would close it", and
// small-cell suppression. It does no I/O; report/xlsx renders its results
// and the API gathers its inputs from the store.
package report
