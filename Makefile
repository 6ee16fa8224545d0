# Liaison. The two commands a new user needs: `make demo` and `make test`.
GO    ?= go
TOOLS  = $(GO) tool -modfile=tools/go.mod
BIN    = bin

.PHONY: demo test bench chaos build generate check-generated lint vet fuzz postgres browser clean measures medlists benchmarks print-pages
REF   ?= ../shared/reference/qpp-measures
# bench engine: the #418 baseline first, then every measure the engine gained since, timed in
# one run so each line's of_first compares it with #418 under the same machine load.
FLS_KPIS = fls-assessment-90d fls-dxa-90d fls-falls-90d fls-aom-recommended-90d fls-strength-balance-112d \
	fls-monitoring-84-112d fls-aom-started-112d fls-on-aom-364d fls-fracture-risk-84d fls-dxa-84d \
	fls-falls-assessment-84d fls-aom-recommended-84d fls-strength-balance-start-112d fls-monitoring-112d \
	fls-aom-started-all-112d fls-on-aom-all-364d fls-spine-identification
comma := ,
empty :=
space := $(empty) $(empty)
ENGINE_MEASURES = mips-418@2026,aom-pdc@2025,time-to-treatment@2025,refracture@2025,$(subst $(space),$(comma),$(addsuffix @2025,$(FLS_KPIS)))

## demo: start an embedded PostgreSQL and liaisond, load a sample through the API, print what was stored
demo: postgres build
	./$(BIN)/liaison demo

## test: every test, against a real throwaway PostgreSQL, the console's in Debian's Chromium
test: postgres browser
	$(GO) test -count=1 ./...

## bench: the performance figures, one BENCH line each
bench: postgres build
	./$(BIN)/liaison bench engine --measure $(ENGINE_MEASURES) --patients 1000000 --rounds 3
	./$(BIN)/liaison bench ingest --records 1000000
	./$(BIN)/liaison bench evaluate --patients 1000000
	./$(BIN)/liaison bench reports --workbooks 1000
	./$(BIN)/liaison bench validate --files 1000
	./$(BIN)/liaison bench import-fhir --resources 1000000
	./$(BIN)/liaison bench load --clients 32 --seconds 60
	$(GO) test -count=1 -run '^$$' -bench 'Page' -benchtime 20x ./internal/console/ | grep '^BENCH'

## chaos: the long fault-injection tests (`make test` runs them short): PostgreSQL restarted
## ten times and liaisond killed -9 ten times under 32 clients, the API's kill tests ten times over
chaos: postgres
	LIAISON_CHAOS=1 $(GO) test -count=1 -timeout 30m -v ./internal/chaos
	$(GO) test -count=10 -run 'Killed|Crash' ./internal/api

## print-pages: printed pages of the demo's workbooks (LibreOffice; run make demo first)
print-pages:
	scripts/print-pages.sh out

## build: the binaries, with the VCS revision stamped when the checkout allows it (overrides a
## GOFLAGS=-buildvcs=false; a git worktree or a tree without git gets "devel (no VCS information)")
build:
	$(GO) build -buildvcs=auto -o $(BIN)/ ./cmd/...

## generate: regenerate Go code and the OpenAPI document from proto/
generate:
	$(TOOLS) buf generate

## check-generated: fail if the committed generated code is stale
check-generated: generate
	git diff --exit-code -- proto internal/api/openapi

## measures: regenerate the CMS-derived code lists of the MIPS specs (committed) from $(REF)
## and, when PQRS040 names it, pqrs-040's fracture lists from the 2015 specification text
## (not committed; measures/README.md says how to get it)
PQRS040     ?=
PQRS040_REF ?= SunCoastConnection/TheRealLibreEHR@999e93066f638e9544ba77ab6b0b5786524eafd1 library/classes/rulesets/PQRS/reports/PQRS_0040/README.TXT
measures:
	$(GO) run ./cmd/measuregen -ref $(REF) -out measures -pqrs040 "$(PQRS040)" -pqrs040-ref "$(PQRS040_REF)"

## medlists: regenerate the generated sections of the osteoporosis medication lists
## (measures/valuesets/osteoporosis-meds*.txt, committed) from an RxNorm folder that is not
## committed: the per-ingredient JSON of RXNORM_REF (web/data/*.json), copied to RXNORM
RXNORM     ?= ../rxnorm-ingredients/web/data
RXNORM_REF ?= github.com/davidanderson3/rxnorm-ingredients@2810603af617bb0fba00c925a8d1e8c6153ba7af web/data/*.json (RxNorm Current Prescribable Content 2025-10-06; A.json absent: over the 4 MiB copy limit)
medlists:
	$(GO) run ./cmd/medlists -rxnorm $(RXNORM) -rxnorm-ref "$(RXNORM_REF)" -out measures/valuesets

## benchmarks: regenerate the embedded CMS benchmark deciles (committed) from $(REF)
benchmarks:
	$(GO) run ./internal/benchmarks/gen -ref $(REF) -out internal/benchmarks/benchmarks.json

lint:
	$(TOOLS) buf lint

vet:
	$(GO) vet ./...

## fuzz: run every fuzz target for FUZZTIME (default 30s) and keep the new corpus entries each found
## in its package's testdata/fuzz (at most 50 per target, each at most 64 KiB): scripts/fuzz.sh
FUZZTIME ?= 30s
fuzz:
	GO=$(GO) FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

postgres:
	@scripts/ensure-postgres.sh

browser:
	@scripts/ensure-browser.sh

clean:
	rm -rf $(BIN)
