// Package stats holds the aggregate statistics the fracture-liaison (FLS)
// measures report: a sample's quartiles (time to treatment, PDC), a Poisson
// rate with its exact interval (refracture per 100 person-years) and the
// cumulative incidence of an event with death as a competing risk. It is
// pure computation, without I/O; a function sorts at most one copy of its
// input, so none is worse than O(n log n), and none modifies its input.
//
// Methods and their sources:
//
//   - Quantiles are Hyndman & Fan's type 7 (linear interpolation between
//     order statistics): Hyndman RJ, Fan Y. Sample quantiles in statistical
//     packages. Am Stat 1996;50:361–365. See Quantiles for why this type.
//   - The rate interval is the exact (Garwood) Poisson interval, from
//     chi-square quantiles: Garwood F. Fiducial limits for the Poisson
//     distribution. Biometrika 1936;28:437–442. fls.md §6.3 asks for it.
//     The chi-square quantile inverts the regularized incomplete gamma
//     function, computed by its series and its continued fraction (Press
//     WH et al., Numerical Recipes, 3rd ed. 2007, §6.2).
//   - Cumulative incidence with a competing risk is the Aalen–Johansen
//     estimator: Putter H, Fiocco M, Geskus RB. Tutorial in biostatistics:
//     competing risks and multi-state models. Stat Med 2007;26:2389–2430
//     (1 − Kaplan–Meier of the event, competing events censored, overstates
//     its incidence). fls.md §6.3 asks for it for refracture and
//     for time to treatment.
package stats
