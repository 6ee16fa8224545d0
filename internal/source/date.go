package source

import (
	"fmt"
	"strconv"
	"strings"
)

// ISODate turns the MM/DD/YYYY that claims and spreadsheet exports often
// write into YYYY-MM-DD; anything else is passed on for ingest to judge.
func ISODate(s string) string {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || len(parts[2]) != 4 || len(parts[0]) > 2 || len(parts[1]) > 2 {
		return s
	}
	m, err1 := strconv.Atoi(parts[0])
	d, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return s
	}
	return fmt.Sprintf("%s-%02d-%02d", parts[2], m, d)
}
