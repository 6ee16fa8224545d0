#!/usr/bin/env bash
# Counts the printed pages of the workbooks `make demo` wrote (issue 18,
# "workbooks that print"): converts one physician workbook, its practice's
# workbook and the FLS workbook to PDF with LibreOffice and fails when one
# prints on more pages than a reader should have to handle.
#
# Needs LibreOffice Calc and pdfinfo: apt-get install libreoffice-calc poppler-utils.
set -euo pipefail
out=${1:-out}
for tool in soffice pdfinfo; do
	command -v "$tool" >/dev/null || { echo "print-pages: $tool not found (apt-get install libreoffice-calc poppler-utils)" >&2; exit 2; }
done
physician=$(ls "$out"/reports/*/physician-*.xlsx 2>/dev/null | head -1)
[ -n "$physician" ] || { echo "print-pages: no workbooks in $out/reports: run make demo first" >&2; exit 2; }
practice=$(ls "$(dirname "$physician")"/practice-*.xlsx | head -1)
physicians=$(ls "$(dirname "$physician")"/physician-*.xlsx | wc -l)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
# The limits: a physician's workbook on a few pages; a practice's on a few
# per physician; the FLS workbook's sheets on about five pages each.
check() { # file, most pages
	cp "$1" "$tmp/"
	soffice --headless --convert-to pdf --outdir "$tmp" "$tmp/$(basename "$1")" >/dev/null 2>&1
	pages=$(pdfinfo "$tmp/$(basename "${1%.xlsx}").pdf" | awk '/^Pages:/ {print $2}')
	verdict=ok
	if [ "$pages" -gt "$2" ]; then verdict="TOO MANY (at most $2)"; status=1; fi
	printf '%-40s %4s pages  %s\n' "$(basename "$1")" "$pages" "$verdict"
}
check "$physician" 10
check "$practice" $((physicians * 5))
[ -f "$out/fls.xlsx" ] && check "$out/fls.xlsx" 30
exit $status
