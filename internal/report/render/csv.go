package render

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"

	"github.com/liaison-registry/liaison/internal/report"
)

// WorklistFileName names a worklist CSV.
func WorklistFileName(tin, npi string) string {
	if npi != "" {
		return "liaison-worklist-" + tin + "-" + npi + ".csv"
	}
	return "liaison-worklist-" + tin + ".csv"
}

// WorklistCSV writes the worklist as RFC 4180 CSV for import into other
// tools: the workbook's columns, dates as YYYY-MM-DD, days left empty for
// closed cases.
func WorklistCSV(w io.Writer, items []report.Item) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(worklistColumns); err != nil {
		return err
	}
	for _, it := range items {
		c := it.Case
		days := ""
		if it.Status == report.Open {
			days = strconv.Itoa(it.DaysLeft)
		}
		row := []string{string(it.Status), days, c.DueDate.String(), c.PatientID, c.IndexDate.String(),
			it.Measure.Desc.IndexLabel, it.Code, it.Site, it.Measure.Key, it.CloseBy, it.Evidence, c.NPI, c.CaseID}
		for i := range row {
			row[i] = inert(row[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// inert keeps a cell from running as a formula when the CSV is opened in a
// spreadsheet (CSV injection): values the practice sent, such as patient ids,
// could start with = + - @. Only such cells get a leading apostrophe, which
// spreadsheets hide; every other value is written as sent.
func inert(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
