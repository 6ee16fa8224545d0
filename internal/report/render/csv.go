package render

import (
	"encoding/csv"
	"io"
	"strconv"

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
		if err := cw.Write([]string{string(it.Status), days, c.DueDate.String(), c.PatientID, c.IndexDate.String(),
			it.Measure.Desc.IndexLabel, it.Code, it.Site, it.Measure.Key, it.CloseBy, it.Evidence, c.NPI, c.CaseID}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
