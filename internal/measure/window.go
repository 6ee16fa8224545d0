package measure

import (
	"fmt"
	"regexp"
	"strconv"

	"github.com/liaison-registry/liaison/internal/clinical"
)

// anchor is a named date a window bound is measured from.
type anchor uint8

const (
	anchorIndex anchor = iota
	anchorPeriodStart
	anchorPeriodEnd
	anchorIntakeStart
	anchorIntakeEnd
	anchorEver
	anchorAdmission
)

var anchorNames = map[string]anchor{
	"index": anchorIndex, "periodStart": anchorPeriodStart, "periodEnd": anchorPeriodEnd,
	"intakeStart": anchorIntakeStart, "intakeEnd": anchorIntakeEnd, "ever": anchorEver,
	"admission": anchorAdmission,
}

// everDate stands for "any time before": far enough back for any record.
var everDate = clinical.NewDate(1800, 1, 1)

// bound is one end of a window. Months are calendar months
// (clinical.Date.AddMonths), days are days; the unit is always explicit in
// the spec ("index+6m", "index+180d"), never guessed.
type bound struct {
	fromIndex bool          // relative to a date of the case: its index date or,
	admission bool          // with this set, its admission (caseCtx.admit)
	fixed     clinical.Date // when !fromIndex, fully resolved at compile time
	months    int
	days      int
}

func (b bound) at(index clinical.Date) clinical.Date {
	if !b.fromIndex {
		return b.fixed
	}
	d := index
	if b.months != 0 {
		d = d.AddMonths(b.months)
	}
	return d.AddDays(b.days)
}

// atCase resolves the bound for case c.
func (b bound) atCase(c *caseCtx) clinical.Date {
	if b.admission {
		return b.at(c.admission())
	}
	return b.at(c.index)
}

// window is an inclusive range of dates relative to a case's index date.
type window struct {
	from, to bound
	text     string // as written in the spec, for messages
}

func (w window) resolve(c *caseCtx) clinical.Period {
	return clinical.Period{Start: w.from.atCase(c), End: w.to.atCase(c)}
}

var reBound = regexp.MustCompile(`^([A-Za-z]+)(?:([+-])([0-9]+)([dm]))?$`)

// parseBound reads "anchor", "anchor+Nd", "anchor-Nm".
func parseBound(s string, period clinical.Period, intake *clinical.Period) (bound, error) {
	m := reBound.FindStringSubmatch(s)
	if m == nil {
		return bound{}, fmt.Errorf("%q: want ANCHOR, ANCHOR+Nd or ANCHOR-Nm (d = days, m = calendar months)", s)
	}
	a, ok := anchorNames[m[1]]
	if !ok {
		return bound{}, fmt.Errorf("%q: unknown anchor %q (index, admission, periodStart, periodEnd, intakeStart, intakeEnd, ever)", s, m[1])
	}
	var b bound
	if m[2] != "" {
		n, _ := strconv.Atoi(m[3])
		if m[2] == "-" {
			n = -n
		}
		if m[4] == "m" {
			b.months = n
		} else {
			b.days = n
		}
		if a == anchorEver {
			return bound{}, fmt.Errorf("%q: \"ever\" takes no offset", s)
		}
	}
	var base clinical.Date
	switch a {
	case anchorIndex, anchorAdmission:
		b.fromIndex, b.admission = true, a == anchorAdmission
		return b, nil
	case anchorPeriodStart:
		base = period.Start
	case anchorPeriodEnd:
		base = period.End
	case anchorIntakeStart, anchorIntakeEnd:
		if intake == nil {
			return bound{}, fmt.Errorf("%q: the spec has no intake period", s)
		}
		base = intake.Start
		if a == anchorIntakeEnd {
			base = intake.End
		}
	case anchorEver:
		base = everDate
	}
	if b.months != 0 {
		base = base.AddMonths(b.months)
	}
	b.fixed = base.AddDays(b.days)
	b.months, b.days = 0, 0
	return b, nil
}

func parseWindow(w []string, period clinical.Period, intake *clinical.Period) (window, error) {
	if len(w) != 2 {
		return window{}, fmt.Errorf("want [FROM, TO], got %d bounds", len(w))
	}
	from, err := parseBound(w[0], period, intake)
	if err != nil {
		return window{}, err
	}
	to, err := parseBound(w[1], period, intake)
	if err != nil {
		return window{}, err
	}
	if !from.fromIndex && !to.fromIndex && from.fixed > to.fixed {
		return window{}, fmt.Errorf("[%s, %s] ends before it starts", w[0], w[1])
	}
	return window{from: from, to: to, text: "[" + w[0] + ", " + w[1] + "]"}, nil
}
