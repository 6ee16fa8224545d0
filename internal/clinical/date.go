// Package clinical is Liaison's patient-data model: calendar dates, coded
// values and the records practices send. It has no I/O.
package clinical

import (
	"errors"
	"fmt"
	"strings"
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

// ParseDateOrTime accepts a calendar date (YYYY-MM-DD) or a datetime, and
// reduces a datetime to a calendar date as the temporal contract says: in loc
// (the practice's time zone) when loc is not nil, otherwise to the date it
// was written with (its own UTC offset). A datetime written without an
// offset, as many exports write local times, is a wall-clock time: its date
// is the date as written whatever loc is, and no instant is returned. The
// instant is returned (zero for a plain date or a local time) so it can be
// kept as sent.
func ParseDateOrTime(s string, loc *time.Location) (Date, time.Time, error) {
	if s == "" {
		return 0, time.Time{}, ErrNoValue
	}
	if len(s) == len(time.DateOnly) {
		d, err := ParseDate(s)
		return d, time.Time{}, err
	}
	t, offset, err := parseDateTime(s)
	if err != nil {
		return 0, time.Time{}, err
	}
	if !offset {
		return DateOf(t, time.UTC), time.Time{}, nil
	}
	if loc == nil {
		loc = t.Location() // the offset it was written with
	}
	return DateOf(t, loc), t, nil
}

// dateTimeLayouts are the datetime shapes accepted: RFC 3339 (FHIR's
// dateTime), and the shapes real exports also write: no seconds, no offset,
// an offset without its colon.
var dateTimeLayouts = []struct {
	layout string
	offset bool
}{
	{time.RFC3339Nano, true},
	{"2006-01-02T15:04Z07:00", true},
	{"2006-01-02T15:04:05.999999999Z0700", true},
	{"2006-01-02T15:04Z0700", true},
	{"2006-01-02T15:04:05.999999999", false},
	{"2006-01-02T15:04", false},
}

// parseDateTime parses one of dateTimeLayouts; offset says whether the value
// carried a UTC offset ("Z" counts as one).
func parseDateTime(s string) (time.Time, bool, error) {
	for _, l := range dateTimeLayouts {
		if t, err := time.Parse(l.layout, s); err == nil {
			return t, l.offset, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("%q is neither a date YYYY-MM-DD nor a datetime YYYY-MM-DDThh:mm[:ss][offset]", s)
}

// Precision is how much of a partial date (FHIR's "YYYY" or "YYYY-MM") was given.
type Precision uint8

const (
	DayPrecision Precision = iota
	MonthPrecision
	YearPrecision
)

// ParsePartialDate parses a full date or a partial one ("YYYY-MM", "YYYY"),
// returning its first day and its precision.
func ParsePartialDate(s string) (Date, Precision, error) {
	switch len(s) {
	case len("2006-01"):
		if t, err := time.Parse("2006-01", s); err == nil {
			return DateOf(t, time.UTC), MonthPrecision, nil
		}
	case len("2006"):
		if t, err := time.Parse("2006", s); err == nil {
			return DateOf(t, time.UTC), YearPrecision, nil
		}
	default:
		d, err := ParseDate(s)
		return d, DayPrecision, err
	}
	return 0, 0, fmt.Errorf("%q is not a date YYYY-MM-DD, YYYY-MM or YYYY", s)
}

// Last returns the last day a date of precision p starting on d can be.
func (p Precision) Last(d Date) Date {
	switch p {
	case MonthPrecision:
		return d.AddMonths(1).AddDays(-1)
	case YearPrecision:
		return d.AddMonths(12).AddDays(-1)
	}
	return d
}

// Format writes d at precision p, as it was sent.
func (p Precision) Format(d Date) string {
	s := d.String()
	switch p {
	case MonthPrecision:
		return s[:7]
	case YearPrecision:
		return s[:4]
	}
	return s
}

// Zone loads a practice's IANA time zone; "" (no zone) and names that do
// not load give nil, which ParseDateOrTime reads as "the date as written".
func Zone(name string) *time.Location {
	if name == "" || strings.EqualFold(name, "local") {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return loc
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

// AgesOn returns the youngest and oldest age someone born between earliest
// and latest (a partial birth date) can be on on; equal for a full date.
func AgesOn(earliest, latest, on Date) (youngest, oldest int) {
	return AgeOn(latest, on), AgeOn(earliest, on)
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
