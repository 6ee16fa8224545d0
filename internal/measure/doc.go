// Package measure loads versioned measure specifications (measures/), compiles
// each version once into an immutable Measure, and evaluates patients: pure
// functions from clinical.PatientData to cases, each with its populations,
// index and due dates, attribution and evidence. It does no I/O beyond
// reading the spec tree it is given, so the CLI and the server share it.
//
// The temporal contract (DESIGN.md) is applied throughout: dates are calendar
// dates, windows are inclusive and say their unit (days or calendar months),
// the index date is day 0, and age is completed years on the anchor date.
package measure
