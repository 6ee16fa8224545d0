// Package clinical is Liaison's patient-data model: calendar dates, coded
// values and the records practices send. It has no I/O.
package clinical

import (
	"errors"
	"fmt"
	"time"
)

// Date is a calendar date (the temporal contract's unit), stored as days
// since 1970-01-01 so comparisons and "within N days" are integer arithmetic.
// The zero value is 1970-01-01; use Valid/IsZero-aware fields (NullDate) for
// optional dates.
type Date int32

// NewDate builds a Date from year, month and day; out-of-range values
// normalise as time.Date does, so callers validate input with ParseDate.
func NewDate(y int, m time.Month, d int) Date {
	return Date(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// DateOf reduces an instant to its calendar date in loc (the practice's
// time zone), as the temporal contract requires.
func DateOf(t time.Time, loc *time.Location) Date {
	y, m, d := t.In(loc).Date()
	return NewDate(y, m, d)
}

// ParseDate parses YYYY-MM-DD strictly: no normalisation of 2023-02-29.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a calendar date YYYY-MM-DD", s)
	}
	return DateOf(t, time.UTC), nil
}

// ErrNoValue marks an empty date-or-datetime.
var ErrNoValue = errors.New("no value")

// ParseDateOrTime accepts a calendar date (YYYY-MM-DD) or an RFC 3339
// datetime; a datetime is reduced to its calendar date in loc. The instant is
// returned too (zero for a plain date) so it can be kept as sent.
func ParseDateOrTime(s string, loc *time.Location) (Date, time.Time, error) {
	if s == "" {
		return 0, time.Time{}, ErrNoValue
	}
	if len(s) == len(time.DateOnly) {
		d, err := ParseDate(s)
		return d, time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("%q is neither a date YYYY-MM-DD nor an RFC 3339 datetime", s)
	}
	return DateOf(t, loc), t, nil
}

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// YMD returns the calendar fields.
func (d Date) YMD() (int, time.Month, int) { return d.Time().Date() }

// Year returns the calendar year.
func (d Date) Year() int { y, _, _ := d.YMD(); return y }

func (d Date) String() string { return d.Time().Format(time.DateOnly) }

// AddDays returns d+n days.
func (d Date) AddDays(n int) Date { return d + Date(n) }

// DaysSince returns d-from in days (negative when d is earlier).
func (d Date) DaysSince(from Date) int { return int(d - from) }

// AddMonths adds calendar months. A day that does not exist in the target
// month clamps to its last day (31 August + 6 months = 28/29 February), which
// is how "six months after" is read in the measure texts: the window never
// spills into the following month.
func (d Date) AddMonths(n int) Date {
	y, m, day := d.YMD()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if day > last {
		day = last
	}
	return NewDate(first.Year(), first.Month(), day)
}

// AgeOn returns completed years of someone born on birth, on date on. Born on
// 29 February, a person turns a year older on 1 March in non-leap years
// because (2,28) sorts before (2,29).
func AgeOn(birth, on Date) int {
	by, bm, bd := birth.YMD()
	y, m, d := on.YMD()
	age := y - by
	if m < bm || (m == bm && d < bd) {
		age--
	}
	return age
}

// Period is an inclusive range of calendar dates.
type Period struct{ Start, End Date }

// Contains reports whether d lies in the period, both bounds included.
func (p Period) Contains(d Date) bool { return p.Start <= d && d <= p.End }

// Year returns 1 January to 31 December of y.
func Year(y int) Period {
	return Period{NewDate(y, time.January, 1), NewDate(y, time.December, 31)}
}

// NullDate is an optional Date.
type NullDate struct {
	Date  Date
	Valid bool
}

// Some wraps a present date.
func Some(d Date) NullDate { return NullDate{d, true} }

func (n NullDate) String() string {
	if !n.Valid {
		return ""
	}
	return n.Date.String()
}
