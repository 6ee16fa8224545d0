// Package stats holds the aggregate statistics the fracture-liaison (FLS)
// measures report. It is pure computation: no I/O, no allocation beyond one
// sorted copy of the input, O(n log n) at most.
//
// Methods and their sources:
//
//   - Quantiles are Hyndman & Fan's type 7 (linear interpolation between
//     order statistics): Hyndman RJ, Fan Y. Sample quantiles in statistical
//     packages. Am Stat 1996;50:361–365. See Quantiles for why this type.
package stats
