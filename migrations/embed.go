// Package migrations holds Liaison's numbered plain-SQL schema migrations.
// A landed migration is never edited: a change is a new file.
package migrations

import "embed"

// FS holds the *.sql files, applied in name order.
//
//go:embed *.sql
var FS embed.FS
