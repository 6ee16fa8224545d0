// Package measures holds the measure specifications as data: one folder per
// measure, one per version (<measure>/<version>/spec.yaml plus its code
// lists), and shared value sets under valuesets/ (some in sub-folders per
// source release, valuesets/frailty/<expansion>/). See README.md.
package measures

import "embed"

//go:embed README.md */*/*.yaml */*/*.txt valuesets/*.txt valuesets/*.yaml valuesets/*/*/*.txt
var files embed.FS

// FS returns the embedded specification tree, rooted at the measures folder.
func FS() embed.FS { return files }
