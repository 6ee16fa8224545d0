package clinical

import (
	"testing"
	"time"
)

func d(s string) Date {
	v, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

func TestParseDateRejectsImpossibleDates(t *testing.T) {
	for _, s := range []string{"2023-02-29", "2024-13-01", "2024-04-31", "24-01-01", "2024/01/01", ""} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) accepted an impossible date", s)
		}
	}
	if got := d("2024-02-29").String(); got != "2024-02-29" {
		t.Errorf("leap day round trip: %s", got)
	}
}

// TestDatetimeReducedByTheTemporalContract: a datetime is reduced to its
// date in the practice's zone when it has one; with no zone (loc nil), to
// the date it was written with, in its own offset, not moved to UTC; one
// written without an offset is a wall-clock time, its date as written
// whatever the zone.
func TestDatetimeReducedByTheTemporalContract(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name string
		in   string
		loc  *time.Location
		want string
	}{
		{"late evening in New York is still that day", "2024-06-30T23:30:00-04:00", ny, "2024-06-30"},
		{"same instant in UTC is the next day", "2024-06-30T23:30:00-04:00", time.UTC, "2024-07-01"},
		{"UTC midnight is the previous evening in New York", "2025-01-01T00:00:00Z", ny, "2024-12-31"},
		{"plain date ignores the zone", "2024-06-30", ny, "2024-06-30"},
		{"evening in Chicago, no zone: that evening's date", "2024-06-30T23:30:00-05:00", nil, "2024-06-30"},
		{"no seconds, no zone", "2024-06-30T23:30-05:00", nil, "2024-06-30"},
		{"offset without its colon", "2024-06-30T23:30:00-0500", nil, "2024-06-30"},
		{"Z, no zone: UTC's date", "2024-07-01T03:30:00Z", nil, "2024-07-01"},
		{"no offset, no zone: the date as written", "2024-06-30T23:30:00", nil, "2024-06-30"},
		{"no offset, a zone: still the date as written (a local time)", "2024-06-30T23:30:00", ny, "2024-06-30"},
		{"no offset and no seconds", "2024-06-30T23:30", nil, "2024-06-30"},
		{"fractional seconds, no offset", "2024-06-30T23:30:00.123", nil, "2024-06-30"},
		{"with a zone the zone decides", "2024-06-30T23:30:00-05:00", ny, "2024-07-01"},
		{"29 February late evening, no zone", "2024-02-29T23:59:59-08:00", nil, "2024-02-29"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, _, err := ParseDateOrTime(tc.in, tc.loc)
			if err != nil || got.String() != tc.want {
				t.Fatalf("ParseDateOrTime(%q) = %v, %v; want %s", tc.in, got, err, tc.want)
			}
		})
	}
	for _, bad := range []string{"2024-06-31T10:00:00", "2024-06-30T25:00:00Z", "2024-06-30 10:00", "yesterday"} {
		if _, _, err := ParseDateOrTime(bad, nil); err == nil {
			t.Errorf("ParseDateOrTime(%q) accepted it", bad)
		}
	}
}

// TestPartialBirthDate: FHIR's partial dates ("1950-06", "1950") parse to
// their first day with a precision, and an age on a date is a range that
// covers every day the partial date allows.
func TestPartialBirthDate(t *testing.T) {
	tests := []struct {
		name, in, first, last string
		on                    string
		young, old            int
	}{
		{"full date", "1950-06-15", "1950-06-15", "1950-06-15", "2024-06-15", 74, 74},
		{"month: before any birthday in June", "1950-06", "1950-06-01", "1950-06-30", "2024-05-31", 73, 73},
		{"month: mid-June is uncertain", "1950-06", "1950-06-01", "1950-06-30", "2024-06-15", 73, 74},
		{"month: from 30 June certain", "1950-06", "1950-06-01", "1950-06-30", "2024-06-30", 74, 74},
		{"year: uncertain all year", "1950", "1950-01-01", "1950-12-31", "2024-07-01", 73, 74},
		{"year: certain on 31 December", "1950", "1950-01-01", "1950-12-31", "2024-12-31", 74, 74},
		{"February of a leap year ends on the 29th", "1952-02", "1952-02-01", "1952-02-29", "2024-03-01", 72, 72},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			first, prec, err := ParsePartialDate(tc.in)
			if err != nil || first.String() != tc.first || prec.Last(first).String() != tc.last || prec.Format(first) != tc.in {
				t.Fatalf("ParsePartialDate(%q) = %s..%s (%q), %v", tc.in, first, prec.Last(first), prec.Format(first), err)
			}
			p := Patient{BirthDate: first, BirthPrec: prec}
			if y, o := p.Ages(d(tc.on)); y != tc.young || o != tc.old {
				t.Errorf("ages on %s = %d..%d, want %d..%d", tc.on, y, o, tc.young, tc.old)
			}
		})
	}
	for _, bad := range []string{"1950-13", "195", "1950-6", "1950-06-31", "June 1950"} {
		if _, _, err := ParsePartialDate(bad); err == nil {
			t.Errorf("ParsePartialDate(%q) accepted it", bad)
		}
	}
}

func TestAgeOnBirthdayAndLeapDay(t *testing.T) {
	tests := []struct {
		name      string
		birth, on string
		want      int
	}{
		{"day before 50th birthday", "1974-03-15", "2024-03-14", 49},
		{"on 50th birthday", "1974-03-15", "2024-03-15", 50},
		{"day before 86th birthday is still 85", "1938-07-01", "2024-06-30", 85},
		{"on 86th birthday", "1938-07-01", "2024-07-01", 86},
		{"29 Feb birth, 28 Feb of non-leap year: not yet older", "1972-02-29", "2023-02-28", 50},
		{"29 Feb birth, 1 Mar of non-leap year: older", "1972-02-29", "2023-03-01", 51},
		{"29 Feb birth, 29 Feb of leap year: older", "1972-02-29", "2024-02-29", 52},
		{"29 Feb birth, 28 Feb of leap year: not yet", "1972-02-29", "2024-02-28", 51},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := AgeOn(d(tc.birth), d(tc.on)); got != tc.want {
				t.Fatalf("AgeOn(%s, %s) = %d, want %d", tc.birth, tc.on, got, tc.want)
			}
		})
	}
}

func TestCalendarMonthsAndDayWindows(t *testing.T) {
	tests := []struct {
		name   string
		from   string
		months int
		want   string
	}{
		{"six months from mid-month", "2024-01-15", 6, "2024-07-15"},
		{"31 August plus six months clamps to 28 February", "2023-08-31", 6, "2024-02-29"},
		{"31 August plus six months in a non-leap target", "2022-08-31", 6, "2023-02-28"},
		{"across year end", "2024-12-31", 2, "2025-02-28"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := d(tc.from).AddMonths(tc.months).String(); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	// "within 180 days after X" is X..X+180 inclusive: day 180 is in, day 181 out.
	x := d("2024-02-19")
	if got := x.AddDays(180).String(); got != "2024-08-17" {
		t.Errorf("day 180 after 2024-02-19 = %s, want 2024-08-17 (leap year counted)", got)
	}
	if d("2024-08-18").DaysSince(x) != 181 {
		t.Error("2024-08-18 should be day 181")
	}
}

func TestPeriodBoundsInclusive(t *testing.T) {
	p := Year(2024)
	for s, want := range map[string]bool{"2023-12-31": false, "2024-01-01": true, "2024-12-31": true, "2025-01-01": false} {
		if p.Contains(d(s)) != want {
			t.Errorf("Year(2024).Contains(%s) != %v", s, want)
		}
	}
}

// FuzzParseDates: dates and datetimes come from every outside source. A
// value either fails with an error or gives a date that prints back as the
// date part it was written with (offsets only move it in a practice zone,
// and here there is none).
func FuzzParseDates(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2024-06-30T23:30:00-05:00", "2024-06-30T23:30", "2024-06-30T23:30:00.5Z", "1950-06", "1950", "2024-13-01", "0000-01-01T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, _, err := ParseDateOrTime(s, nil); err == nil && len(s) >= 10 && d.String() != s[:10] {
			t.Fatalf("ParseDateOrTime(%q) = %s: not the date written", s, d)
		}
		if d, p, err := ParsePartialDate(s); err == nil && p.Format(d) != s {
			t.Fatalf("ParsePartialDate(%q) prints back as %q", s, p.Format(d))
		}
	})
}
